import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { portalOpenApiDocument } from '../../portal-api';
import { testConfig } from '../support/harness';

/**
 * Browser tests drive Debian's Chromium (scripts/install-chromium.sh) through playwright-core;
 * Playwright never downloads a browser here (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const PHONE = { width: 375, height: 740 };
export const DESKTOP = { width: 1200, height: 800 };

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Which of API.md's v1.1 routes this API serves (the tests of those features wait for them). */
export function servedRoutes(): { liveEvents: boolean; edit: boolean; reactions: boolean } {
  const paths = portalOpenApiDocument(testConfig()).paths as Record<string, Record<string, unknown>>;
  return {
    liveEvents: Boolean(paths['/v1/events']?.get && paths['/v1/me/event-ticket']?.post),
    edit: Boolean(paths['/v1/chats/{chatId}/messages/{messageId}']?.patch),
    reactions: Boolean(paths['/v1/chats/{chatId}/messages/{messageId}/reactions/{key}']?.put),
  };
}

export interface PersonPage {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy refusals and page errors seen so far (must stay empty). */
  problems: string[];
}

/** A browser context signed in as one person through the development sign-in, at a route of the client. */
export async function openAs(
  browser: Browser,
  baseUrl: string,
  who: { role: 'customer' | 'admin'; id: string; net: string },
  route = '/chats',
  viewport = DESKTOP,
): Promise<PersonPage> {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  await gotoRoute(page, baseUrl, who, route);
  return { context, page, problems };
}

export async function gotoRoute(page: Page, baseUrl: string, who: { role: string; id: string; net: string }, route: string): Promise<void> {
  const as = encodeURIComponent(`${who.role}:${who.id}@${who.net}`);
  await page.goto(`${baseUrl}/chat/?as=${as}#${route}`);
  await page.locator('coworking-chat nav[aria-label="Chat sections"]').waitFor();
}

/** axe-core on the page (shadow DOM included): the serious and critical violations, as readable lines. */
export async function seriousViolations(person: PersonPage, page = person.page): Promise<string[]> {
  const before = person.problems.length;
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  // axe-core's own probes set inline styles, which the page's policy refuses: not the client's doing.
  const during = person.problems.splice(before);
  person.problems.push(...during.filter((p) => !/^CSP: Applying inline style/.test(p)));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}
