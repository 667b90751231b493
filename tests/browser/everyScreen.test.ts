import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from '../e2e/networkFixture';
import { DESKTOP, gotoRoute, launchChromium, openAs, PHONE, seriousViolations, type PersonPage } from './browserSupport';

/**
 * Every screen of the web client, member and administrator, at desktop width and at 375 px:
 * axe-core finds no serious or critical violation on any of them, and nothing overflows the
 * phone's width. With SCREENSHOTS_DIR set (`npm run screenshots`) each screen is also written
 * there as a PNG, for review.
 */
const SHOTS = process.env.SCREENSHOTS_DIR;

/** A small real PNG (a two-colour banner), so the image preview has something to show. */
function bannerPng(width = 240, height = 120): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set(y < height / 2 ? [40, 110, 190] : [250, 190, 60], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

async function upload(s: TestServices, token: string, chatId: string, name: string, type: string, data: Buffer, txnId: string): Promise<void> {
  const form = new FormData();
  form.append('txnId', txnId);
  form.append('file', new Blob([new Uint8Array(data)], { type }), name);
  const res = await fetch(`${s.baseUrl}/v1/chats/${chatId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
}

describe('every screen of the web client', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let browser: Browser;
  let direct: string;
  let support: string;

  beforeAll(async () => {
    s = await startServices({ WEB_CLIENT_DEV_LOGIN: 'true', RATE_LIMIT_REQUESTS: '100000' });
    n = await createNetwork(s, {
      communityVisibility: 'network_members',
      locations: ['harbour', 'station'],
      customers: {
        alice: { displayName: 'Alice Archer', locationIds: ['harbour'] },
        bob: { displayName: 'Bob Baker', locationIds: ['harbour'] },
        chen: { displayName: 'Chen Li', locationIds: ['harbour', 'station'] },
        carol: { displayName: 'Carol Hidden', locationIds: ['harbour'], hideNameOnBookings: true },
        dave: { displayName: 'Dave Visitor', kind: 'nonmember' },
      },
      admins: { ada: 'Ada Admin' },
    });
    const admin = n.admin('ada');
    await s.api('PATCH', `/v1/networks/${n.net}/settings`, admin, { attachments: { allowedTypes: ['application/pdf', 'image/png', 'image/jpeg'], maxBytes: 10 * 1024 * 1024 } });
    const alice = n.customer('alice');
    const bob = n.customer('bob');
    direct = (await s.api('POST', '/v1/chats', alice, { userId: 'bob' })).body.id;
    const say = (token: string, chatId: string, body: string, txnId: string) => s.api('POST', `/v1/chats/${chatId}/messages`, token, { txnId, body });
    await say(alice, direct, 'Hi Bob! Are you coming to the community breakfast on Friday?', 'shot-1');
    await say(bob, direct, 'Yes! I will bring croissants. Which room is it in?', 'shot-2');
    await say(alice, direct, 'The big kitchen on the 2nd floor. Here is the floor plan:', 'shot-3');
    await upload(s, alice, direct, 'floor-plan.png', 'image/png', bannerPng(), 'shot-4');
    await upload(s, bob, direct, 'breakfast-menu.pdf', 'application/pdf', Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'), 'shot-5');
    const last = await say(bob, direct, 'Perfect, see you there 🙂', 'shot-6');
    await s.api('POST', '/v1/chats', n.customer('chen'), { userId: 'alice' }).then((r) => say(n.customer('chen'), r.body.id, 'Is the meeting room at Station free tomorrow?', 'shot-7'));
    support = (await s.api('POST', '/v1/chats/support', alice)).body.id;
    await say(alice, support, 'Hello, the printer on floor 2 is out of toner.', 'shot-8');
    const supportLast = await say(alice, support, 'Could someone have a look?', 'shot-9');
    await s.api('POST', `/v1/networks/${n.net}/chats`, admin, { customerId: 'dave' }).then((r) => say(admin, r.body.id, 'Welcome, Dave! Your day pass is ready at the front desk.', 'shot-10'));
    // The conversation index and the notifications follow Synapse's events: wait for them before looking.
    await eventually('the lists to be up to date', async () => {
      const mine = await s.api('GET', '/v1/chats', alice);
      const inbox = await s.api('GET', `/v1/networks/${n.net}/chats`, admin);
      return (
        mine.body.chats?.find((c: { id: string; lastMessage: { id: string } | null }) => c.id === direct)?.lastMessage?.id === last.body.id &&
        inbox.body.chats?.find((c: { id: string; lastMessage: { id: string } | null }) => c.id === support)?.lastMessage?.id === supportLast.body.id
      );
    });
    browser = await launchChromium();
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  const widths = [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const;

  for (const [width, viewport] of widths) {
    test(`member and administrator screens at ${width} width (${viewport.width} px)`, async () => {
      const found: Record<string, string[]> = {};
      const who = (id: string, role: 'customer' | 'admin' = 'customer') => ({ role, id, net: n.net });
      const look = async (p: PersonPage, screen: string) => {
        const name = `${screen} (${width})`;
        const violations = await seriousViolations(p);
        if (violations.length) found[name] = violations;
        expect(await p.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
        if (SHOTS) await p.page.screenshot({ path: join(SHOTS, `${screen.replace(/[^a-z0-9]+/gi, '-')}-${width}.png`) });
      };

      const member = await openAs(browser, s.baseUrl, who('alice'), '/chats', viewport);
      await member.page.getByRole('link', { name: /Bob Baker/ }).waitFor();
      await look(member, 'member-chat-list');
      await gotoRoute(member.page, s.baseUrl, who('alice'), `/chats/${direct}`);
      await member.page.getByRole('img', { name: 'floor-plan.png' }).waitFor();
      await look(member, 'member-conversation');
      const mine = member.page.locator('.cwc-mine', { hasText: 'The big kitchen' });
      await mine.hover();
      await mine.getByRole('button', { name: 'Actions for message from You' }).click();
      await look(member, 'member-message-menu');
      await member.page.getByRole('menuitem', { name: 'Unsend' }).click();
      await member.page.getByRole('dialog').waitFor();
      await look(member, 'member-unsend-dialog');
      await member.page.keyboard.press('Escape');
      await gotoRoute(member.page, s.baseUrl, who('alice'), '/community');
      await member.page.locator('.cwc-person').first().waitFor();
      await look(member, 'member-community');
      await gotoRoute(member.page, s.baseUrl, who('alice'), '/message/carol');
      await member.page.getByRole('alert').filter({ hasText: "can't be messaged" }).waitFor();
      await look(member, 'member-deep-link-refused');
      await gotoRoute(member.page, s.baseUrl, who('alice'), `/chats/${support}`);
      await member.page.locator('.cwc-message').first().waitFor();
      await look(member, 'member-support-chat');

      const admin = await openAs(browser, s.baseUrl, who('ada', 'admin'), '/chats', viewport);
      await admin.page.getByRole('link', { name: /Alice Archer/ }).waitFor();
      await look(admin, 'admin-support-inbox');
      await gotoRoute(admin.page, s.baseUrl, who('ada', 'admin'), `/chats/${support}`);
      await admin.page.locator('.cwc-message').first().waitFor();
      await look(admin, 'admin-conversation');
      await gotoRoute(admin.page, s.baseUrl, who('ada', 'admin'), '/chats');
      await admin.page.getByRole('button', { name: 'New chat' }).click();
      await admin.page.getByRole('button', { name: /^Message / }).first().waitFor();
      await look(admin, 'admin-new-chat-dialog');
      await admin.page.keyboard.press('Escape');
      await gotoRoute(admin.page, s.baseUrl, who('ada', 'admin'), '/notifications');
      await admin.page.getByRole('heading', { name: 'Notifications' }).waitFor();
      await admin.page.locator('.cwc-chat-item').first().waitFor();
      // Named as people know them, not by the host platform's id.
      expect(await admin.page.locator('.cwc-chat-name').first().textContent()).toMatch(/^New message from [A-Z][a-z]+ [A-Z][a-z]+$/);
      await look(admin, 'admin-notifications');
      await gotoRoute(admin.page, s.baseUrl, who('ada', 'admin'), '/settings');
      await admin.page.getByRole('button', { name: 'Save settings' }).waitFor();
      await look(admin, 'admin-chat-settings');

      // Chats turned off: what members and administrators see.
      expect((await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), { chatsEnabled: false })).status).toBe(200);
      try {
        await gotoRoute(member.page, s.baseUrl, who('alice'), '/chats');
        await member.page.reload();
        await member.page.getByText('Chats are turned off for this network.').waitFor();
        await look(member, 'member-chats-off');
        await gotoRoute(admin.page, s.baseUrl, who('ada', 'admin'), '/chats');
        await admin.page.reload();
        await admin.page.getByText('Chats are turned off for this network.').waitFor();
        await look(admin, 'admin-chats-off');
      } finally {
        expect((await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), { chatsEnabled: true })).status).toBe(200);
      }
      expect([...member.problems, ...admin.problems]).toEqual([]);
      await member.context.close();
      await admin.context.close();
      expect(found).toEqual({});
    });
  }
});
