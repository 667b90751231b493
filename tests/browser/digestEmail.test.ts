import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser } from 'playwright-core';
import { eventually, startServices, type TestServices } from '../support/harness';
import { freePort } from '../../scripts/stack/freePort';
import { mailMessage, mailTo } from '../support/mailpit';
import { createNetwork, type NetworkFixture } from '../e2e/networkFixture';
import { DESKTOP, PHONE, launchChromium } from './browserSupport';

/**
 * The batched email as a mail client shows it: its HTML part, taken from Mailpit, rendered in
 * Chromium at desktop and phone width with no network (as mail clients load nothing) and no script
 * in it. The
 * text a member wrote shows as written (escaped, never markup), the links lead back to the web
 * client and to the one-click unsubscribe page, nothing is wider than the phone, and axe-core finds
 * no serious or critical violation. With SCREENSHOTS_DIR set (`npm run screenshots`) both
 * renderings are written there.
 */
const SHOTS = process.env.SCREENSHOTS_DIR;
/** One "minute" of the delay: 200 ms here. */
const UNIT_MS = 200;

describe('the digest email in a browser', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let browser: Browser;
  let publicUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    s = await startServices({ EMAIL_DELAY_UNIT_MS: String(UNIT_MS), PORTAL_API_PORT: String(port), PORTAL_PUBLIC_URL: publicUrl });
    n = await createNetwork(s, { customers: { alice: { displayName: 'Alice Andersen' }, bob: { displayName: 'Bob Bauer' } } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  test('renders what was written, links back, fits a phone, and passes axe-core', async () => {
    const address = `bob.${n.net}@example.test`;
    expect((await s.api('PUT', `/v1/networks/${n.net}/customers/bob`, n.service, { kind: 'member', displayName: 'Bob Bauer', email: address })).status).toBe(200);
    expect((await s.api('PATCH', '/v1/me/notification-settings', n.customer('bob'), { email: { delayMinutes: 1 } })).status).toBe(200);
    const chat = await s.api('POST', '/v1/chats', n.customer('alice'), { userId: 'bob' });
    expect(chat.status).toBe(200);
    const written = ['Hi Bob <3 -- lunch at "Harbour" & coffee after?', '<b>not bold</b> and <script>alert(1)</script>'];
    for (const [i, body] of written.entries()) {
      expect((await s.api('POST', `/v1/chats/${chat.body.id}/messages`, n.customer('alice'), { txnId: `digest-shot-${i}`, body })).status).toBe(201);
    }
    const [summary] = await eventually('the digest email in Mailpit', async () => {
      const found = await mailTo(address);
      return found.length > 0 ? found : null;
    }, 30000);
    const email = await mailMessage(summary!.ID);

    // Scripts stay on for axe-core; the email itself must hold none (checked below).
    const context = await browser.newContext({ viewport: DESKTOP });
    try {
      const page = await context.newPage();
      // Like a mail client: nothing is fetched, so the email must stand on its own.
      const fetched: string[] = [];
      await page.route('**/*', (route) => (fetched.push(route.request().url()), route.abort()));
      await page.setContent(email.HTML, { waitUntil: 'load' });
      const text = await page.locator('body').innerText();
      for (const body of written) expect(text).toContain(body);
      expect(await page.locator('b, script').count()).toBe(0);
      const links = await page.locator('a').evaluateAll((as) => as.map((a) => ({ text: a.textContent?.trim(), href: a.getAttribute('href') })));
      expect(links).toEqual(
        expect.arrayContaining([
          { text: 'Open the conversation', href: `${s.config.email.webClientUrl}/chat/#/chats/${chat.body.id}` },
          { text: 'Unsubscribe from these emails', href: expect.stringMatching(new RegExp(`^${publicUrl}/v1/email/unsubscribe\\?token=`)) },
        ]),
      );
      expect(fetched).toEqual([]);
      const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'digest-email-desktop.png'), fullPage: true });
      }
      await page.setViewportSize(PHONE);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'digest-email-phone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
