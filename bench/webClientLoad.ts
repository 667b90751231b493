import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { inLanes, type BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork } from './support/networkFixture';
import { percentile } from './support/percentiles';
import type { BenchScale } from './support/scale';

/**
 * B9 web client, in Debian's Chromium on loopback: the first load of the chat list (JS and CSS,
 * gzip-compressed size; time from navigation to the list rendered, cold cache: a new browser
 * context each time), and a conversation of 1,000 messages scrolled back to its first message
 * with the DOM never holding more than 200 message nodes. Absolute targets, no baseline.
 */
const HISTORY_MESSAGES = 1000;

export async function webClientLoad(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const net = await createNetwork(b, { customers: { carol: 'Carol Christensen', dave: 'Dave Dubois', erin: 'Erin Eriksen' } });
  const carol = net.customer('carol');
  const chat = await b.ok('POST', '/v1/chats', carol, { userId: 'dave', via: { type: 'community' } });
  await b.ok('POST', '/v1/chats', carol, { userId: 'erin', via: { type: 'community' } });
  const senders = [net.customerUserId('carol'), net.customerUserId('dave')];
  await inLanes(
    Array.from({ length: HISTORY_MESSAGES }, (_, i) => i),
    4,
    async (i) => {
      await b.matrix.sendEvent(chat.matrixRoomId, 'm.room.message', `b9-${i}-${randomUUID()}`, { msgtype: 'm.text', body: `message number ${i}` }, senders[i % 2]);
    },
  );
  const url = (route: string) => `${b.baseUrl}/chat/?as=${encodeURIComponent(`customer:carol@${net.net}`)}#${route}`;
  const browser: Browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    // What the first load fetches: every script and stylesheet, compressed as a gzip proxy would send it.
    let gzipBytes = 0;
    let rawBytes = 0;
    {
      const context = await browser.newContext();
      const page = await context.newPage();
      const bodies: Array<Promise<Buffer>> = [];
      page.on('response', (res) => {
        if (/\.(js|css)$/.test(new URL(res.url()).pathname)) bodies.push(res.body());
      });
      await page.goto(url('/chats'));
      await page.locator('.cwc-chat-item').first().waitFor();
      for (const body of await Promise.all(bodies)) {
        rawBytes += body.length;
        gzipBytes += gzipSync(body, { level: 6 }).length;
      }
      await context.close();
    }

    const samples = scale.name === 'small' ? 10 : 30;
    const loadMs: number[] = [];
    for (let i = 0; i < samples + 2; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(url('/chats'));
      await page.locator('.cwc-chat-item').first().waitFor();
      const ms = performance.now() - t0;
      if (i >= 2) loadMs.push(ms);
      await context.close();
    }

    const { maxNodes, reachedStart } = await scrollToStart(browser, url(`/chats/${chat.id}`));
    if (!reachedStart) throw new Error('scrolling back never reached the first message');
    return [
      result({ id: 'B9', metric: 'first load JS+CSS (gzip)', unit: 'KiB', value: gzipBytes / 1024, baseline: null, target: 200, targetOn: 'value', better: 'lower', note: `${(rawBytes / 1024).toFixed(0)} KiB uncompressed` }),
      result({ id: 'B9', metric: 'navigation to chat list rendered p50', unit: 'ms', value: percentile(loadMs, 50), baseline: null, target: 800, targetOn: 'value', better: 'lower', note: `${samples} cold loads (new browser context each), p95 ${percentile(loadMs, 95).toFixed(0)} ms; includes the development sign-in's token request` }),
      result({ id: 'B9', metric: `message nodes in the DOM, ${HISTORY_MESSAGES}-message conversation scrolled to its start`, unit: 'nodes', value: maxNodes, baseline: null, target: 200, targetOn: 'value', better: 'lower', note: 'the most seen at any step' }),
    ];
  } finally {
    await browser.close();
  }
}

/** Opens the conversation and pages back to its first message; the most message nodes seen at once. */
async function scrollToStart(browser: Browser, conversationUrl: string): Promise<{ maxNodes: number; reachedStart: boolean }> {
  const context = await browser.newContext();
  const page: Page = await context.newPage();
  await page.goto(conversationUrl);
  await page.locator('.cwc-message').first().waitFor();
  const messages = page.locator('.cwc-message');
  const start = page.getByText('This is the beginning of the conversation.');
  let maxNodes = await messages.count();
  for (let step = 0; step < 200 && !(await start.isVisible()); step++) {
    const before = await messages.first().getAttribute('data-message-id');
    const older = page.getByRole('button', { name: 'Load older messages' });
    if (await older.isVisible()) await older.click();
    for (let i = 0; i < 200 && (await messages.first().getAttribute('data-message-id')) === before && !(await start.isVisible()); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    maxNodes = Math.max(maxNodes, await messages.count());
  }
  const reachedStart = (await start.isVisible()) && (await page.locator('.cwc-text', { hasText: /^message number 0$/ }).count()) === 1;
  await context.close();
  return { maxNodes, reachedStart };
}
