import * as sdk from 'matrix-js-sdk';
import { EmailDigestModel, notificationSettingsId } from '../../store';
import { startServices, eventually, type TestServices } from '../support/harness';
import { freePort } from '../../scripts/stack/freePort';
import { mailHeaders, mailMessage, mailTo } from '../support/mailpit';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * Batched notification emails against the real Synapse and the real Mailpit of the test stack:
 * one email after the person's delay for what is still unread, none for what was read meanwhile
 * (here in a Matrix client) or muted, administrators' support messages, and the one-click
 * unsubscribe link. One "minute" of delay is EMAIL_DELAY_UNIT_MS = 500 ms here.
 */

const UNIT_MS = 500;

describe('email notifications', () => {
  let s: TestServices;
  let n: NetworkFixture;
  const address = (who: string) => `${who}.${n.net}@example.test`;

  beforeAll(async () => {
    // A known port, so the unsubscribe links in the emails point at this API.
    const port = await freePort();
    s = await startServices({ EMAIL_DELAY_UNIT_MS: String(UNIT_MS), PORTAL_API_PORT: String(port), PORTAL_PUBLIC_URL: `http://127.0.0.1:${port}` });
    n = await createNetwork(s, {
      customers: {
        alice: { displayName: 'Alice Andersen' },
        bob: { displayName: 'Bob <Bauer> & Co' },
        carol: { displayName: 'Carol Christensen' },
        dave: { displayName: 'Dave Dahl' },
        erin: { displayName: 'Erin Eriksen' },
      },
      admins: { ada: 'Ada Admin' },
    });
    for (const who of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      const res = await s.api('PUT', `/v1/networks/${n.net}/customers/${who}`, n.service, { kind: 'member', displayName: displayNames[who], email: address(who) });
      expect(res.status).toBe(200);
    }
    expect((await s.api('PUT', `/v1/networks/${n.net}/admins/ada`, n.service, { displayName: 'Ada Admin', email: address('ada') })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const displayNames: Record<string, string> = { alice: 'Alice Andersen', bob: 'Bob <Bauer> & Co', carol: 'Carol Christensen', dave: 'Dave Dahl', erin: 'Erin Eriksen' };

  async function setDelay(token: string, delayMinutes: number) {
    const res = await s.api('PATCH', '/v1/me/notification-settings', token, { email: { delayMinutes } });
    expect(res.status).toBe(200);
    expect(res.body.email.delayMinutes).toBe(delayMinutes);
  }
  async function directChat(from: string, to: string): Promise<{ id: string; matrixRoomId: string }> {
    const res = await s.api('POST', '/v1/chats', n.customer(from), { userId: to });
    expect(res.status).toBe(200);
    return res.body;
  }
  let txn = 0;
  async function send(from: string, chatId: string, body: string, token = n.customer(from)): Promise<string> {
    const res = await s.api('POST', `/v1/chats/${chatId}/messages`, token, { txnId: `email-${++txn}`, body });
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 201, error: undefined });
    return res.body.id;
  }
  /** The person's email windows, once none is waiting any more (each sent, or closed with nothing to send). */
  async function settledWindows(kind: 'customer' | 'admin', id: string, atLeast = 1) {
    const personKey = notificationSettingsId(n.net, kind, id);
    return eventually(
      `the email windows of ${kind} ${id} to settle`,
      async () => {
        const windows = await EmailDigestModel.find({ personKey }).sort({ openedAt: 1 }).lean();
        return windows.length >= atLeast && windows.every((w) => ['sent', 'nothing', 'failed', 'uncertain'].includes(w.status)) ? windows : null;
      },
      30000,
    );
  }

  test('bad inputs: an email that is not an address, a delay outside 1-1440, switches only administrators have', async () => {
    const bad = await s.api('PUT', `/v1/networks/${n.net}/customers/alice`, n.service, { kind: 'member', displayName: 'Alice Andersen', email: 'alice-at-example' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', field: 'email' });
    const badAdmin = await s.api('PUT', `/v1/networks/${n.net}/admins/ada`, n.service, { displayName: 'Ada Admin', email: 'ada@' });
    expect(badAdmin.status).toBe(400);
    expect(badAdmin.body.error.field).toBe('email');
    for (const delayMinutes of [0, 1441, 2.5, '10']) {
      const res = await s.api('PATCH', '/v1/me/notification-settings', n.customer('alice'), { email: { delayMinutes } });
      expect({ delayMinutes, status: res.status, field: res.body.error?.field }).toEqual({ delayMinutes, status: 400, field: 'email.delayMinutes' });
    }
    for (const empty of [{}, { email: {} }]) {
      const res = await s.api('PATCH', '/v1/me/notification-settings', n.customer('alice'), empty);
      expect({ status: res.status, message: res.body.error?.message }).toEqual({ status: 400, message: 'body: nothing to change' });
    }
    const inApp = await s.api('PATCH', '/v1/me/notification-settings', n.customer('alice'), { inApp: false });
    expect(inApp.status).toBe(400);
    expect(inApp.body.error.field).toBe('inApp');
    const mute = await s.api('PUT', '/v1/chats/not-a-chat/mute', n.customer('alice'), { muted: true });
    expect(mute.status).toBe(400);
    const muteBody = await s.api('PUT', '/v1/chats/ch_0123456789abcdef/mute', n.customer('alice'), { muted: 'yes' });
    expect(muteBody.status).toBe(400);
    // Nothing was lost: the address and the default delay are as the host platform set them.
    const settings = await s.api('GET', '/v1/me/notification-settings', n.customer('alice'));
    expect(settings.body).toEqual({ email: { address: address('alice'), enabled: true, delayMinutes: 10 }, mutedChats: [] });
    const admin = await s.api('GET', '/v1/me/notification-settings', n.admin('ada'));
    expect(admin.body).toEqual({ email: { address: address('ada'), enabled: true, delayMinutes: 10 }, mutedChats: [], inApp: true, webhook: true });
  });

  let aliceChat: string;
  let aliceMailId: string;

  test("a member's unread direct messages become one email after the delay, escaped, with a link back and one-click unsubscribe", async () => {
    await setDelay(n.customer('alice'), 2);
    const chat = await directChat('bob', 'alice');
    aliceChat = chat.id;
    const sentAt = Date.now();
    await send('bob', chat.id, 'first <b>bold</b> & "quoted"');
    await send('bob', chat.id, 'second message');
    const [window] = await settledWindows('customer', 'alice');
    expect(window).toMatchObject({ status: 'sent', listedChats: 1, listedMessages: 2 });
    // Not before the delay (2 "minutes" of UNIT_MS).
    expect(new Date(window!.sentAt!).getTime() - sentAt).toBeGreaterThanOrEqual(2 * UNIT_MS - 50);
    const mails = await mailTo(address('alice'));
    expect(mails).toHaveLength(1);
    aliceMailId = mails[0]!.ID;
    const mail = await mailMessage(aliceMailId);
    expect(mail.From).toEqual({ Name: 'Flex Offices', Address: 'notifications@localhost' });
    expect(mail.Subject).toBe('2 new messages in Chat with Bob <Bauer> & Co (Flex Offices)');
    expect(mail.Text).toContain('Bob <Bauer> & Co: first <b>bold</b> & "quoted"');
    expect(mail.Text).toContain('Bob <Bauer> & Co: second message');
    const link = `${s.config.email.webClientUrl}/chat/#/chats/${chat.id}`;
    expect(mail.Text).toContain(link);
    expect(mail.HTML).toContain('first &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;');
    expect(mail.HTML).toContain('Bob &lt;Bauer&gt; &amp; Co');
    expect(mail.HTML).not.toContain('<b>bold</b>');
    expect(mail.HTML).toContain(`href="${link}"`);
    const headers = await mailHeaders(aliceMailId);
    expect(headers['List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
    expect(headers['List-Unsubscribe']?.[0]).toMatch(new RegExp(`^<${s.baseUrl.replace(/[.]/g, '\\.')}/v1/email/unsubscribe\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+>`));
  });

  test('messages after the email open a new window: the next email lists only them, no message is in two emails', async () => {
    await send('bob', aliceChat, 'third, after the email');
    const newest = await eventually(
      'the email about the third message',
      async () => {
        for (const m of await mailTo(address('alice'))) {
          const full = await mailMessage(m.ID);
          if (full.Text.includes('third, after the email')) return full;
        }
        return null;
      },
      30000,
    );
    expect(newest.Subject).toBe('1 new message in Chat with Bob <Bauer> & Co (Flex Offices)');
    expect(newest.Text).not.toContain('second message');
    // A message indexed just after the first window closed (a busy machine) may open a window of
    // its own; that window lists nothing the first email listed ("nothing"), never a second email.
    const windows = await settledWindows('customer', 'alice', 2);
    expect(windows.filter((w) => w.status === 'sent')).toHaveLength(2);
    expect(windows.filter((w) => w.status !== 'sent').map((w) => w.status)).toEqual(windows.length > 2 ? ['nothing'] : []);
    expect(await mailTo(address('alice'))).toHaveLength(2);
  });

  test('read in a Matrix client (read receipt) before the delay: no email', async () => {
    await setDelay(n.customer('carol'), 8);
    const chat = await directChat('bob', 'carol');
    const messageId = await send('bob', chat.id, 'carol, are you there?');
    const session = (await s.api('POST', '/v1/me/matrix-session', n.customer('carol'))).body;
    const client = sdk.createClient({ baseUrl: session.homeserverUrl, userId: session.userId, accessToken: session.accessToken, deviceId: session.deviceId });
    try {
      await client.joinRoom(chat.matrixRoomId);
      await client.sendReadReceipt(new sdk.MatrixEvent({ event_id: messageId, room_id: chat.matrixRoomId, type: 'm.room.message', content: {} }));
      // The receipt reached the portal's read marker (the unread count is 0) before the window closed.
      await eventually('the receipt to clear the unread count', async () => {
        const list = await s.api('GET', '/v1/chats', n.customer('carol'));
        return list.body.chats.find((c: { id: string }) => c.id === chat.id)?.unreadCount === 0;
      });
      const pending = await EmailDigestModel.findOne({ personKey: notificationSettingsId(n.net, 'customer', 'carol') }).lean();
      expect(['pending', 'queued']).toContain(pending?.status);
    } finally {
      client.stopClient();
    }
    const [window] = await settledWindows('customer', 'carol');
    expect(window!.status).toBe('nothing');
    expect(await mailTo(address('carol'))).toHaveLength(0);
  });

  test('muted: a conversation muted while its window is open sends nothing; a muted one opens none', async () => {
    await setDelay(n.customer('dave'), 8);
    const chat = await directChat('bob', 'dave');
    await send('bob', chat.id, 'dave, lunch?');
    await eventually('a window for dave', async () => EmailDigestModel.findOne({ personKey: notificationSettingsId(n.net, 'customer', 'dave') }).lean());
    const muted = await s.api('PUT', `/v1/chats/${chat.id}/mute`, n.customer('dave'), { muted: true });
    expect(muted.body).toEqual({ chatId: chat.id, muted: true });
    expect((await s.api('GET', '/v1/me/notification-settings', n.customer('dave'))).body.mutedChats).toEqual([chat.id]);
    const [window] = await settledWindows('customer', 'dave');
    expect(window!.status).toBe('nothing');

    // Muted before the message: no window at all. Events of one network are applied in order, so
    // once erin's window (a later message from the same network) exists, dave's message was handled.
    await send('bob', chat.id, 'dave, still muted?');
    const erinChat = await directChat('bob', 'erin');
    await send('bob', erinChat.id, 'erin, hello');
    await eventually('a window for erin', async () => EmailDigestModel.findOne({ personKey: notificationSettingsId(n.net, 'customer', 'erin') }).lean());
    expect(await EmailDigestModel.countDocuments({ personKey: notificationSettingsId(n.net, 'customer', 'dave') })).toBe(1);
    expect(await mailTo(address('dave'))).toHaveLength(0);
    // Someone else's conversation cannot be muted.
    expect((await s.api('PUT', `/v1/chats/${chat.id}/mute`, n.customer('alice'), { muted: true })).status).toBe(404);
  });

  test("an administrator gets one email for a customer's support messages, the customer for the team's answer", async () => {
    await setDelay(n.admin('ada'), 2);
    await setDelay(n.customer('erin'), 2);
    const opened = await s.api('POST', `/v1/networks/${n.net}/chats`, n.admin('ada'), { customerId: 'erin' });
    expect(opened.status).toBe(200);
    await send('erin', opened.body.id, 'the printer is jammed again');
    const [window] = await settledWindows('admin', 'ada');
    expect(window!.status).toBe('sent');
    const mails = await mailTo(address('ada'));
    expect(mails).toHaveLength(1);
    const mail = await mailMessage(mails[0]!.ID);
    expect(mail.Subject).toBe('1 new message in Support chat with Erin Eriksen (Flex Offices)');
    expect(mail.Text).toContain('Erin Eriksen: the printer is jammed again');

    await send('ada', opened.body.id, 'on our way', n.admin('ada'));
    await eventually('the answer in an email to erin', async () => {
      for (const m of await mailTo(address('erin'))) {
        const full = await mailMessage(m.ID);
        if (full.Text.includes('on our way')) return full;
      }
      return null;
    }, 30000).then((full) => {
      // The team answers; which administrator did is not told.
      expect(full.Text).toContain('Flex Offices team: on our way');
      expect(full.Text).not.toContain('Ada');
    });
  });

  test('the unsubscribe link: a GET only asks, a changed link changes nothing, the one-click POST switches email off without login', async () => {
    const headers = await mailHeaders(aliceMailId);
    const url = /^<([^>]+)>/.exec(headers['List-Unsubscribe']![0]!)![1]!;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post"');
    const token = new URL(url).searchParams.get('token')!;
    const tampered = `${url.split('?')[0]}?token=${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const method of ['GET', 'POST']) {
      const refused = await fetch(tampered, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('This unsubscribe link is not valid');
    }
    expect((await s.api('GET', '/v1/me/notification-settings', n.customer('alice'))).body.email.enabled).toBe(true);
    // As a mail client does it (RFC 8058).
    const done = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('You are unsubscribed');
    expect((await s.api('GET', '/v1/me/notification-settings', n.customer('alice'))).body.email).toEqual({ address: address('alice'), enabled: false, delayMinutes: 2 });
  });
});
