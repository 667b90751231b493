import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from '../e2e/networkFixture';
import { gotoRoute, launchChromium, openAs, PHONE, servedRoutes, type PersonPage } from './browserSupport';

/**
 * The web client in Debian's Chromium against the real stack (Synapse, appservice, portal API,
 * workers): what members and administrators do on its screens, and what they are told when the
 * rules say no. The live-stream, edit and reaction tests run once the API serves those routes
 * (API.md v1.1); until then they are skipped, by name.
 */
const served = servedRoutes();
const whenLive = served.liveEvents ? test : test.skip;
const whenEdit = served.edit ? test : test.skip;
const whenReactions = served.reactions ? test : test.skip;

const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

describe('web client in a real browser', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let browser: Browser;
  const opened: PersonPage[] = [];
  // A host portal on another origin (a real local server) for the embedding test.
  let hostPortal: Server;
  let hostOrigin: string;
  let hostPage = '';
  const as = (id: string, role: 'customer' | 'admin' = 'customer') => ({ role, id, net: n.net });
  const open = async (id: string, role: 'customer' | 'admin' = 'customer', route = '/chats', viewport?: { width: number; height: number }) => {
    const p = await openAs(browser, s.baseUrl, as(id, role), route, viewport);
    opened.push(p);
    return p;
  };
  const chatOf = async (a: string, b: string) => (await s.api('POST', '/v1/chats', n.customer(a), { userId: b })).body.id as string;
  const setSettings = async (body: Record<string, unknown>) => {
    const res = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), body);
    expect(res.status).toBe(200);
  };
  /** Waits until the conversation index has a chat's newest message (it follows Synapse's events). */
  const indexed = async (token: string, chatId: string, messageId: string, list = '/v1/chats') =>
    eventually('the chat list to have the newest message', async () => {
      const res = await s.api('GET', list, token);
      return res.body.chats?.find((c: { id: string; lastMessage: { id: string } | null }) => c.id === chatId && c.lastMessage?.id === messageId);
    });

  beforeAll(async () => {
    hostPortal = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage));
    await new Promise<void>((resolve) => hostPortal.listen(0, '127.0.0.1', resolve));
    hostOrigin = `http://127.0.0.1:${(hostPortal.address() as AddressInfo).port}`;
    s = await startServices({ WEB_CLIENT_DEV_LOGIN: 'true', RATE_LIMIT_REQUESTS: '100000', WEB_CLIENT_ALLOWED_ORIGINS: hostOrigin });
    n = await createNetwork(s, {
      communityVisibility: 'network_members',
      locations: ['loc-a', 'loc-b'],
      customers: {
        alice: { displayName: 'Alice Archer', locationIds: ['loc-a'] },
        bob: { displayName: 'Bob Baker', locationIds: ['loc-a'] },
        carol: { displayName: 'Carol Hidden', locationIds: ['loc-a'], hideNameOnBookings: true },
        dave: { displayName: 'Dave Visitor', kind: 'nonmember' },
        erin: { displayName: 'Erin Elsewhere', locationIds: ['loc-b'] },
      },
      admins: { ada: 'Ada Admin' },
    });
    await setSettings({ attachments: { allowedTypes: ['application/pdf', 'image/png'], maxBytes: 1024 * 1024 } });
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const p of opened.splice(0)) {
      expect(p.problems).toEqual([]);
      await p.context.close();
    }
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    hostPortal?.close();
  });

  test('the page is served with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${s.baseUrl}/chat/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const element = await fetch(`${s.baseUrl}/chat/assets/coworking-chat.js`);
    expect(element.status).toBe(200);
    expect(element.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${s.baseUrl}/chat/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  test('alice finds bob on the Community page, messages him, and bob answers from his chat list (two browser contexts)', async () => {
    const alice = await open('alice', 'customer', '/community');
    await alice.page.getByRole('button', { name: 'Message Bob Baker' }).click();
    await alice.page.getByRole('heading', { name: 'Bob Baker' }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).fill('Hello Bob, coffee at 3?');
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await alice.page.locator('.cwc-mine .cwc-text', { hasText: 'Hello Bob, coffee at 3?' }).waitFor();

    const chatId = await chatOf('alice', 'bob');
    const history = await s.api('GET', `/v1/chats/${chatId}/messages`, n.customer('bob'));
    const sent = history.body.messages.find((m: { body: string }) => m.body === 'Hello Bob, coffee at 3?');
    expect(sent).toBeDefined();
    await indexed(n.customer('bob'), chatId, sent.id);

    const bob = await open('bob');
    const item = bob.page.getByRole('link', { name: /Alice Archer/ });
    // The unread badge is the server's count.
    await item.getByLabel('1 unread').waitFor();
    await item.click();
    await bob.page.locator('.cwc-theirs .cwc-text', { hasText: 'Hello Bob, coffee at 3?' }).waitFor();
    await bob.page.getByLabel('Message', { exact: true }).fill('Sure, see you there');
    await bob.page.keyboard.press('Enter');
    await bob.page.locator('.cwc-mine .cwc-text', { hasText: 'Sure, see you there' }).waitFor();
    // Opening the conversation read it: the server's count for bob is back to 0.
    await eventually('bob has read the conversation', async () => {
      const list = await s.api('GET', '/v1/chats', n.customer('bob'));
      return list.body.chats.find((c: { id: string }) => c.id === chatId)?.unreadCount === 0;
    });

    await alice.page.reload();
    await alice.page.locator('.cwc-theirs .cwc-text', { hasText: 'Sure, see you there' }).waitFor();
  });

  whenLive('bob sees alice\'s message arrive live, and the unread badge moves, without reloading', async () => {
    const chatId = await chatOf('alice', 'bob');
    const bob = await open('bob', 'customer', '/chats');
    const alice = await open('alice', 'customer', `/chats/${chatId}`);
    await bob.page.getByRole('link', { name: /Alice Archer/ }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).fill('Are you in today?');
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await bob.page.getByRole('link', { name: /Alice Archer/ }).getByText('Are you in today?').waitFor({ timeout: 15000 });
    await bob.page.getByRole('link', { name: /Alice Archer/ }).click();
    await bob.page.getByLabel('Message', { exact: true }).fill('Yes, desk 4');
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await alice.page.locator('.cwc-theirs .cwc-text', { hasText: 'Yes, desk 4' }).waitFor({ timeout: 15000 });
  });

  test('an administrator answers a member from the support inbox', async () => {
    const alice = await open('alice');
    await alice.page.getByRole('button', { name: 'Contact support' }).click();
    await alice.page.getByRole('heading', { name: 'Support', exact: true }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).fill('My locker key is missing');
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await alice.page.locator('.cwc-mine .cwc-text', { hasText: 'My locker key is missing' }).waitFor();

    const support = (await s.api('POST', '/v1/chats/support', n.customer('alice'))).body.id as string;
    const last = (await s.api('GET', `/v1/chats/${support}/messages?limit=1`, n.customer('alice'))).body.messages[0];
    await indexed(n.admin('ada'), support, last.id, `/v1/networks/${n.net}/chats`);

    const ada = await open('ada', 'admin');
    await ada.page.getByRole('heading', { name: 'Support inbox' }).waitFor();
    const item = ada.page.getByRole('link', { name: /Alice Archer/ });
    await item.getByLabel('1 unread').waitFor();
    await item.click();
    await ada.page.locator('.cwc-theirs .cwc-text', { hasText: 'My locker key is missing' }).waitFor();
    await ada.page.getByLabel('Message', { exact: true }).fill('We have a spare one at the desk');
    await ada.page.getByRole('button', { name: 'Send' }).click();
    await ada.page.locator('.cwc-mine .cwc-text', { hasText: 'We have a spare one at the desk' }).waitFor();

    await alice.page.reload();
    const reply = alice.page.locator('.cwc-theirs', { hasText: 'We have a spare one at the desk' });
    await reply.waitFor();
    expect(await reply.locator('.cwc-sender').textContent()).toBe('Support team');
  });

  test('an administrator starts a chat with a non-member through "New chat" and through a profile deep link', async () => {
    const ada = await open('ada', 'admin');
    await ada.page.getByRole('button', { name: 'New chat' }).click();
    const dialog = ada.page.getByRole('dialog', { name: 'New chat' });
    await dialog.getByLabel('Search customers').fill('Dave');
    await dialog.getByRole('button', { name: 'Message Dave Visitor' }).click();
    await ada.page.getByRole('heading', { name: 'Dave Visitor' }).waitFor();
    expect(await dialog.isVisible()).toBe(false);

    await gotoRoute(ada.page, s.baseUrl, as('ada', 'admin'), '/customer/erin');
    await ada.page.getByRole('heading', { name: 'Erin Elsewhere' }).waitFor();
  });

  test('attachments: an allowed PDF is sent and listed; another type and an oversized file are refused with sentences', async () => {
    const chatId = await chatOf('alice', 'bob');
    const alice = await open('alice', 'customer', `/chats/${chatId}`);
    await alice.page.getByText('Files: PDF, PNG, up to 1 MB.').waitFor();
    const input = alice.page.locator('input[type=file]');
    await input.setInputFiles({ name: 'contract.pdf', mimeType: 'application/pdf', buffer: pdf });
    await alice.page.locator('.cwc-mine .cwc-file-name', { hasText: 'contract.pdf' }).waitFor();
    const history = await s.api('GET', `/v1/chats/${chatId}/messages?limit=5`, n.customer('bob'));
    expect(history.body.messages.some((m: { attachment?: { name: string } }) => m.attachment?.name === 'contract.pdf')).toBe(true);

    await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just some text, not a PDF') });
    await alice.page.getByRole('alert').filter({ hasText: "This type of file can't be sent here. Allowed types: PDF, PNG." }).waitFor();
    await input.setInputFiles({ name: 'big.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([pdf, Buffer.alloc(1024 * 1024 + 10)]) });
    await alice.page.getByRole('alert').filter({ hasText: 'This file is too large. The limit is 1 MB.' }).waitFor();
    const after = await s.api('GET', `/v1/chats/${chatId}/messages?limit=5`, n.customer('bob'));
    expect(after.body.messages.map((m: { body: string }) => m.body)).not.toContain('notes.txt');
    expect(after.body.messages.map((m: { body: string }) => m.body)).not.toContain('big.pdf');
  });

  test('unsend from the hover menu removes the message for everyone', async () => {
    const chatId = await chatOf('alice', 'bob');
    const sent = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'web-unsend-1', body: 'Oops, wrong chat' });
    expect(sent.status).toBe(201);
    const alice = await open('alice', 'customer', `/chats/${chatId}`);
    const message = alice.page.locator('.cwc-message', { hasText: 'Oops, wrong chat' });
    await message.hover();
    await message.getByRole('button', { name: 'Actions for message from You' }).click();
    await alice.page.getByRole('menuitem', { name: 'Unsend' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Unsend this message?' });
    await dialog.getByRole('button', { name: 'Unsend' }).click();
    await message.waitFor({ state: 'detached' });
    const bobSees = await s.api('GET', `/v1/chats/${chatId}/messages`, n.customer('bob'));
    expect(bobSees.body.messages.map((m: { id: string }) => m.id)).not.toContain(sent.body.id);
    // Bob's copy of the menu has no Unsend for Alice's messages.
    const bob = await open('bob', 'customer', `/chats/${chatId}`);
    const theirs = bob.page.locator('.cwc-theirs').first();
    await theirs.hover();
    await theirs.getByRole('button', { name: /Actions for message from/ }).click();
    await bob.page.getByRole('menuitem', { name: 'Reply' }).waitFor();
    expect(await bob.page.getByRole('menuitem', { name: 'Unsend' }).count()).toBe(0);
  });

  whenEdit('edit from the menu shows the new text, marked edited, to both sides', async () => {
    const chatId = await chatOf('alice', 'bob');
    await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'web-edit-1', body: 'Meet at 2' });
    const alice = await open('alice', 'customer', `/chats/${chatId}`);
    const message = alice.page.locator('.cwc-message', { hasText: 'Meet at 2' });
    await message.hover();
    await message.getByRole('button', { name: 'Actions for message from You' }).click();
    await alice.page.getByRole('menuitem', { name: 'Edit' }).click();
    await alice.page.getByLabel('Edit message').fill('Meet at 3');
    await alice.page.getByRole('button', { name: 'Save' }).click();
    await alice.page.locator('.cwc-message', { hasText: 'Meet at 3' }).getByText('edited').waitFor();
    const bob = await open('bob', 'customer', `/chats/${chatId}`);
    await bob.page.locator('.cwc-message', { hasText: 'Meet at 3' }).waitFor();
    expect(await bob.page.locator('.cwc-message', { hasText: 'Meet at 2' }).count()).toBe(0);
  });

  whenReactions('a reaction from the menu is counted for both sides', async () => {
    const chatId = await chatOf('alice', 'bob');
    await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('bob'), { txnId: 'web-react-1', body: 'Lunch is here' });
    const alice = await open('alice', 'customer', `/chats/${chatId}`);
    const message = alice.page.locator('.cwc-message', { hasText: 'Lunch is here' });
    await message.hover();
    await message.getByRole('button', { name: /Actions for message from/ }).click();
    await alice.page.getByRole('menuitem', { name: 'React with 👍' }).click();
    await message.getByRole('button', { name: '👍 1, yours' }).waitFor();
    const bob = await open('bob', 'customer', `/chats/${chatId}`);
    await bob.page.locator('.cwc-message', { hasText: 'Lunch is here' }).getByRole('button', { name: '👍 1' }).waitFor();
  });

  test('the Community page under each visibility; the hidden customer is never listed', async () => {
    const names = async (page: Page) => {
      await page.getByRole('list', { name: 'People' }).waitFor();
      await page.locator('.cwc-person-name').first().waitFor();
      return (await page.locator('.cwc-person-name').allTextContents()).sort();
    };
    const alice = await open('alice', 'customer', '/community');
    // network_members: every active member but herself; not the non-member, not Carol (hides her name).
    expect(await names(alice.page)).toEqual(['Bob Baker', 'Erin Elsewhere']);
    await alice.page.getByLabel('Search people').fill('Erin');
    await eventually('the search to apply', async () => (await alice.page.locator('.cwc-person-name').allTextContents()).join() === 'Erin Elsewhere');

    await setSettings({ communityVisibility: 'location_members' });
    await alice.page.reload();
    await alice.page.getByRole('heading', { name: 'Community' }).waitFor();
    expect(await names(alice.page)).toEqual(['Bob Baker']);

    await setSettings({ communityVisibility: 'administrators' });
    await alice.page.reload();
    await alice.page.getByRole('link', { name: 'Chats' }).waitFor();
    expect(await alice.page.getByRole('link', { name: 'Community' }).count()).toBe(0);

    // A Feed post opens a path whatever the visibility: the deep link lands in the conversation.
    await s.api('PUT', `/v1/networks/${n.net}/feed-posts/post-1`, n.service, { authorId: 'erin', createdAt: new Date().toISOString() });
    await gotoRoute(alice.page, s.baseUrl, as('alice'), '/message/erin?via=feed_post:post-1');
    await alice.page.getByRole('heading', { name: 'Erin Elsewhere' }).waitFor();
    // Carol hides her name: no path reaches her, and the refusal is a sentence.
    await gotoRoute(alice.page, s.baseUrl, as('alice'), '/message/carol?via=feed_post:post-1');
    await alice.page.getByRole('alert').filter({ hasText: "This person can't be messaged." }).waitFor();
    // The heading says the link was refused, not that the conversation is opening.
    await alice.page.getByRole('heading', { name: "This conversation can't be opened" }).waitFor();
    expect(await alice.page.getByRole('heading', { name: 'Opening the conversation…' }).count()).toBe(0);
    await setSettings({ communityVisibility: 'network_members' });
  });

  test('the chats toggle hides Chats for members and administrators, and says why', async () => {
    const ada = await open('ada', 'admin', '/settings');
    await ada.page.getByLabel('Chats are on for this network (all locations)').uncheck();
    await ada.page.getByRole('button', { name: 'Save settings' }).click();
    await ada.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await ada.page.getByRole('link', { name: 'Support inbox' }).waitFor({ state: 'detached' });
    try {
      const alice = await open('alice');
      await alice.page.getByText('Chats are turned off for this network.').waitFor();
      expect(await alice.page.getByRole('link', { name: 'Chats' }).count()).toBe(0);
      expect(await alice.page.getByRole('link', { name: 'Community' }).count()).toBe(0);
      await gotoRoute(alice.page, s.baseUrl, as('alice'), '/community');
      await alice.page.getByText('Chats are turned off for this network.').waitFor();
    } finally {
      await ada.page.getByLabel('Chats are on for this network (all locations)').check();
      await ada.page.getByRole('button', { name: 'Save settings' }).click();
      await ada.page.getByRole('link', { name: 'Support inbox' }).waitFor();
    }
  });

  test('a window narrowed past the breakpoint keeps the open conversation: its draft stays, and it widens back the same', async () => {
    const chatId = await chatOf('alice', 'bob');
    const alice = await open('alice', 'customer', `/chats/${chatId}`, { width: 1200, height: 800 });
    const composer = alice.page.getByLabel('Message', { exact: true });
    await composer.fill('a draft that must survive');
    await alice.page.setViewportSize({ width: 375, height: 800 });
    await alice.page.getByRole('link', { name: 'Back to chats' }).waitFor();
    expect(await composer.inputValue()).toBe('a draft that must survive');
    await alice.page.setViewportSize({ width: 1200, height: 800 });
    await alice.page.getByRole('link', { name: 'Back to chats' }).waitFor({ state: 'detached' });
    expect(await composer.inputValue()).toBe('a draft that must survive');
  });

  test('keyboard only: the message menu opens, moves with arrows and closes with Escape, focus back on its button', async () => {
    const chatId = await chatOf('alice', 'bob');
    await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'web-keys-1', body: 'Keyboard check' });
    const alice = await open('alice', 'customer', `/chats/${chatId}`);
    const trigger = alice.page.locator('.cwc-message', { hasText: 'Keyboard check' }).getByRole('button', { name: 'Actions for message from You' });
    // What leaves the client's DOM from here on: said by the last assertion if focus goes astray
    // (it did twice in CI runs and never in a local one, even under load).
    await alice.page.evaluate(`(() => { const r = document.querySelector('coworking-chat').shadowRoot; window.__removed = []; new MutationObserver((ms) => { for (const m of ms) for (const n of m.removedNodes) window.__removed.push((n.className || n.nodeName) + ' from ' + (m.target.className || m.target.nodeName)); }).observe(r, { childList: true, subtree: true }); })()`);
    await trigger.focus();
    await alice.page.keyboard.press('Enter');
    await alice.page.getByRole('menuitem', { name: 'Reply' }).waitFor();
    const focused = (what: string) => alice.page.evaluate(`document.querySelector('coworking-chat').shadowRoot.activeElement?.${what}`);
    expect(await focused('textContent')).toBe('Reply');
    await alice.page.keyboard.press('ArrowDown');
    expect(await focused("getAttribute('role')")).toBe('menuitem');
    await alice.page.keyboard.press('Escape');
    await alice.page.getByRole('menu').waitFor({ state: 'detached' });
    const label = await focused("getAttribute('aria-label')");
    const astray =
      label === 'Actions for message from You'
        ? null
        : await alice.page.evaluate(`JSON.stringify({ removed: window.__removed.slice(0, 30), active: document.activeElement?.tagName, banner: document.querySelector('coworking-chat').shadowRoot.querySelector('.cwc-banner')?.textContent, messages: document.querySelector('coworking-chat').shadowRoot.querySelectorAll('.cwc-message').length })`);
    expect({ label, astray }).toEqual({ label: 'Actions for message from You', astray: null });
  });

  test('the iframe route takes its token from the host page; a page of another origin may not frame it', async () => {
    const framingPage = (token: string) => `<!DOCTYPE html><html lang="en"><head><title>Host portal</title></head><body>
      <script>
        addEventListener('message', (e) => {
          if (e.data && e.data.type === 'coworking-chat:token-request') e.source.postMessage({ type: 'coworking-chat:token', token: ${JSON.stringify(token)} }, '*');
        });
      </script>
      <iframe src="${s.baseUrl}/chat/embed#/chats" title="Chats" width="900" height="600"></iframe>
    </body></html>`;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // Host pages served by the browser itself (no server): one on the API's origin, one elsewhere.
      await page.route(`${s.baseUrl}/host-portal.html`, (route) => route.fulfill({ contentType: 'text/html', body: framingPage(n.customer('alice')) }));
      await page.goto(`${s.baseUrl}/host-portal.html`);
      await page.frameLocator('iframe').getByRole('link', { name: /Bob Baker/ }).waitFor();

      const foreign = 'http://portal.invalid';
      await page.route(`${foreign}/host-portal.html`, (route) => route.fulfill({ contentType: 'text/html', body: framingPage(n.customer('alice')) }));
      // The load event waits for the frame: had the policy let it in, its page would hold the element.
      await page.goto(`${foreign}/host-portal.html`);
      expect(await page.frameLocator('iframe').locator('coworking-chat').count()).toBe(0);
      await page.goto(`${s.baseUrl}/host-portal.html`);
      expect(await page.frameLocator('iframe').locator('coworking-chat').count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  test('a host portal on another origin embeds <coworking-chat> with getToken, and the member chats from it', async () => {
    const token = n.customer('alice');
    const chatId = await chatOf('alice', 'bob');
    hostPage = `<!DOCTYPE html><html lang="en"><head><title>Host portal</title>
      <script type="module" src="${s.baseUrl}/chat/assets/coworking-chat.js"></script></head>
      <body><h1>Host portal</h1>
      <coworking-chat id="chat" api-base="${s.baseUrl}" route="/chats"></coworking-chat>
      <script type="module">document.getElementById('chat').getToken = () => Promise.resolve(${JSON.stringify(token)});</script>
    </body></html>`;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${hostOrigin}/portal`);
      await page.getByRole('link', { name: /Bob Baker/ }).click();
      await page.getByLabel('Message', { exact: true }).fill('Sent from the host portal');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('.cwc-mine .cwc-text', { hasText: 'Sent from the host portal' }).waitFor();
      const history = await s.api('GET', `/v1/chats/${chatId}/messages?limit=5`, n.customer('bob'));
      expect(history.body.messages.map((m: { body: string }) => m.body)).toContain('Sent from the host portal');
    } finally {
      await context.close();
    }
    // Only the configured origins may call the API from a browser.
    const other = await fetch(`${s.baseUrl}/v1/me/features`, { headers: { origin: 'http://elsewhere.invalid', authorization: `Bearer ${token}` } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await fetch(`${s.baseUrl}/v1/me/features`, { headers: { origin: hostOrigin, authorization: `Bearer ${token}` } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(hostOrigin);
  });

  test('at 375 px a member goes from the list to a conversation and back', async () => {
    const alice = await open('alice', 'customer', '/chats', PHONE);
    await alice.page.getByRole('link', { name: /Bob Baker/ }).click();
    await alice.page.getByRole('heading', { name: 'Bob Baker' }).waitFor();
    expect(await alice.page.locator('.cwc-chat-list').count()).toBe(0);
    const overflow = await alice.page.evaluate('document.documentElement.scrollWidth > window.innerWidth');
    expect(overflow).toBe(false);
    await alice.page.getByRole('link', { name: 'Back to chats' }).click();
    await alice.page.getByRole('heading', { name: 'Chats', level: 2 }).waitFor();
  });
});
