import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { createServer, type Server } from 'node:http';
import { WebhookDeliveryModel } from '../../store';
import { untilWebhooksQuiet } from '../support/webhooks';
import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * The administrators' side (rules 2 and 9): open a support chat with any customer, a shared inbox
 * newest first with per-admin unread counts, in-app notifications for new customer messages, and
 * the signed webhook channel with retries.
 */

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

describe('administrators: support inbox and notifications', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let receiver: Server;
  const received: Received[] = [];
  const SECRET = 'whsec-0123456789abcdef';

  beforeAll(async () => {
    // The operator's endpoint: refuses the very first delivery, so the retry is visible.
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const answered = received.length === 0 ? 500 : 200;
        received.push({ headers: req.headers, body, answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as { port: number }).port;

    // The receiver runs on loopback, which webhooks may only reach when the operator allows it.
    s = await startServices({ WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' });
    n = await createNetwork(s, {
      customers: {
        alice: { displayName: 'Alice Andersen' },
        bob: { kind: 'nonmember', displayName: 'Bob Bauer', hideNameOnBookings: true },
        carl: { displayName: 'Carl Bauman' },
      },
      admins: { ada: 'Ada Admin', max: 'Max Manager' },
    });
    await s.api('PUT', `/v1/networks/${n.net}/admins/quiet`, n.service, { displayName: 'Quiet Admin', notifications: { inApp: false } });
    const patched = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), {
      notifications: { webhookUrl: `http://127.0.0.1:${port}/hooks/chat`, webhookSecret: SECRET },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.notifications).toEqual({ inApp: true, webhookUrl: `http://127.0.0.1:${port}/hooks/chat`, webhookSecretSet: true });
  });
  afterAll(async () => {
    await s?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  let bobChat: string;
  let aliceChat: string;
  let aliceMessage: string;
  /** Every message a customer sent in a support conversation: each is one webhook delivery. */
  const customerMessages: string[] = [];

  test('an administrator opens a support chat with a non-member who hides their name; asking twice returns it', async () => {
    const first = await s.api('POST', `/v1/networks/${n.net}/chats`, n.admin('ada'), { customerId: 'bob' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ kind: 'support', customerIds: ['bob'], participants: [{ customerId: 'bob', displayName: 'Bob Bauer' }] });
    expect(first.body.matrixRoomId).toMatch(/^!/);
    const again = await s.api('POST', `/v1/networks/${n.net}/chats`, n.admin('max'), { customerId: 'bob' });
    expect(again.body.id).toBe(first.body.id);
    bobChat = first.body.id;

    expect((await s.api('POST', `/v1/networks/${n.net}/chats`, n.admin('ada'), { customerId: 'nobody' })).status).toBe(404);
  });

  test('customer messages land in the inbox newest first, with unread counts per administrator', async () => {
    const fromBob = await s.api('POST', `/v1/chats/${bobChat}/messages`, n.customer('bob'), { txnId: 'b1', body: 'is the printer fixed?' });
    expect(fromBob.status).toBe(201);
    aliceChat = (await s.api('POST', '/v1/chats/support', n.customer('alice'))).body.id;
    const sent = await s.api('POST', `/v1/chats/${aliceChat}/messages`, n.customer('alice'), { txnId: 'a1', body: 'I need a locker' });
    aliceMessage = sent.body.id;
    customerMessages.push(fromBob.body.id, aliceMessage);

    const inbox = await eventually('both chats in the inbox, newest first', async () => {
      const res = await s.api('GET', `/v1/networks/${n.net}/chats`, n.admin('max'));
      const ids = res.body.chats.map((c: { id: string }) => c.id);
      return ids[0] === aliceChat && ids[1] === bobChat && res.body.chats[0].lastMessage?.id === aliceMessage ? res : null;
    });
    expect(inbox.body.chats.map((c: { unreadCount: number }) => c.unreadCount)).toEqual([1, 1]);

    // Max answers Bob in the conversation Ada started (any administrator continues any conversation).
    const reply = await s.api('POST', `/v1/chats/${bobChat}/messages`, n.admin('max'), { txnId: 'm1', body: 'yes, since this morning' });
    expect(reply.status).toBe(201);
    // The answer moves Bob's chat to the top once the index has seen it.
    await eventually('the answered chat on top', async () => {
      const res = await s.api('GET', `/v1/networks/${n.net}/chats`, n.admin('ada'));
      return res.body.chats[0]?.lastMessage?.id === reply.body.id;
    });
    const bobView = await s.api('GET', `/v1/chats/${bobChat}/messages`, n.customer('bob'));
    expect(bobView.body.messages[0]).toMatchObject({ body: 'yes, since this morning', sender: { kind: 'admin', id: 'max' } });

    // Paging: one chat per page, the cursor leads to the other.
    const page1 = await s.api('GET', `/v1/networks/${n.net}/chats?limit=1`, n.admin('ada'));
    const page2 = await s.api('GET', `/v1/networks/${n.net}/chats?limit=1&cursor=${page1.body.nextCursor}`, n.admin('ada'));
    expect([...page1.body.chats, ...page2.body.chats].map((c: { id: string }) => c.id)).toEqual([bobChat, aliceChat]);
    expect(page2.body.nextCursor).toBeNull();
  });

  test('each administrator gets in-app notifications for customer messages only, and marks them read', async () => {
    const list = await eventually('two notifications for Ada', async () => {
      const res = await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('ada'));
      return res.body.unreadCount === 2 ? res : null;
    });
    expect(list.body.notifications.map((x: { preview: string }) => x.preview)).toEqual(['I need a locker', 'is the printer fixed?']);
    expect(list.body.notifications[0]).toMatchObject({ type: 'support_message', chatId: aliceChat, customerId: 'alice', read: false });

    // An administrator who switched in-app notifications off gets none.
    const quiet = await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('quiet'));
    expect(quiet.body).toMatchObject({ notifications: [], unreadCount: 0 });

    // Marking one read changes only Ada's list.
    const one = await s.api('POST', `/v1/networks/${n.net}/notifications/read`, n.admin('ada'), { ids: [list.body.notifications[1].id] });
    expect(one.body.unreadCount).toBe(1);
    expect((await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('max'))).body.unreadCount).toBe(2);
    const unreadOnly = await s.api('GET', `/v1/networks/${n.net}/notifications?unreadOnly=true`, n.admin('ada'));
    expect(unreadOnly.body.notifications.map((x: { chatId: string }) => x.chatId)).toEqual([aliceChat]);
    // Each carries the customer's name as it is now, so the list reads "New message from Alice Andersen".
    expect(unreadOnly.body.notifications.map((x: { customerName: string | null }) => x.customerName)).toEqual(['Alice Andersen']);

    // Reading the conversation settles its notifications too.
    expect((await s.api('POST', `/v1/chats/${aliceChat}/read`, n.admin('ada'), { messageId: aliceMessage })).status).toBe(200);
    expect((await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('ada'))).body.unreadCount).toBe(0);
    const inbox = await s.api('GET', `/v1/networks/${n.net}/chats`, n.admin('ada'));
    expect(inbox.body.chats.find((c: { id: string }) => c.id === aliceChat).unreadCount).toBe(0);

    const all = await s.api('POST', `/v1/networks/${n.net}/notifications/read`, n.admin('max'), { all: true });
    expect(all.body.unreadCount).toBe(0);
  });

  test('the webhook receives each customer message once, signed with the network secret, after retrying a failure', async () => {
    const delivered = await eventually(
      'two successful webhook deliveries',
      async () => {
        const ok = received.filter((r) => r.answered === 200);
        return ok.length >= 2 ? ok : null;
      },
      30000,
    );
    // Verified as a receiver would, with the standardwebhooks library itself (the network's secret as the raw key).
    const receiverSide = new Webhook(SECRET, { format: 'raw' });
    for (const r of received) {
      const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
      expect(receiverSide.verify(r.body, headers)).toMatchObject({ event: 'message.created', networkId: n.net });
      expect(headers['webhook-id']).toBe(r.headers['x-chat-delivery']);
      expect(r.headers['x-chat-event']).toBe('message.created');
      // A changed body, another secret, or a replay outside the tolerance are refused.
      expect(() => receiverSide.verify(r.body.replace('"networkId"', '"networkID"'), headers)).toThrow(WebhookVerificationError);
      expect(() => new Webhook('another-secret-entirely', { format: 'raw' }).verify(r.body, headers)).toThrow(WebhookVerificationError);
      expect(() => receiverSide.verify(r.body, { ...headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) })).toThrow(WebhookVerificationError);
      // The deprecated header of the previous release, still sent for one release.
      const expected = `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`;
      expect(r.headers['x-chat-signature-256']).toBe(expected);
    }
    const payloads = delivered.map((r) => JSON.parse(r.body));
    expect(payloads.map((p) => p.message.preview).sort()).toEqual(['I need a locker', 'is the printer fixed?']);
    expect(payloads[0]).toMatchObject({ event: 'message.created', chatKind: 'support', type: 'support_message', networkId: n.net });
    expect(payloads[0].adminIds.sort()).toEqual(['ada', 'max', 'quiet']);
    // The refused first delivery was retried with the same id; no message was delivered twice.
    const first = received[0]!;
    expect(first.answered).toBe(500);
    expect(delivered.map((r) => r.headers['x-chat-delivery'])).toContain(first.headers['x-chat-delivery']);
    expect(new Set(delivered.map((r) => r.headers['x-chat-delivery'])).size).toBe(delivered.length);
  });

  test('a message the customer sends from a Matrix client notifies the administrators too', async () => {
    const { matrix, virtualUsers } = s.all.appservice.services;
    const bobId = virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'bob' });
    const roomId = (await s.api('GET', `/v1/chats/${bobChat}`, n.customer('bob'))).body.matrixRoomId;
    const eventId = await matrix.sendEvent(roomId, 'm.room.message', `element-${Date.now()}`, { msgtype: 'm.text', body: 'sent from Element' }, bobId);
    customerMessages.push(eventId);
    const notification = await eventually('the notification of the Matrix-client message', async () => {
      const res = await s.api('GET', `/v1/networks/${n.net}/notifications?unreadOnly=true`, n.admin('ada'));
      return res.body.notifications.find((x: { messageId: string }) => x.messageId === eventId);
    });
    expect(notification).toMatchObject({ chatId: bobChat, customerId: 'bob', preview: 'sent from Element', read: false });
  });

  test('an unsent customer message leaves no preview in the notification list', async () => {
    const sent = await s.api('POST', `/v1/chats/${aliceChat}/messages`, n.customer('alice'), { txnId: 'a2', body: 'my door code is 4711' });
    customerMessages.push(sent.body.id);
    await eventually('the notification', async () => {
      const res = await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('ada'));
      return res.body.notifications.some((x: { messageId: string }) => x.messageId === sent.body.id);
    });
    expect((await s.api('DELETE', `/v1/chats/${aliceChat}/messages/${encodeURIComponent(sent.body.id)}`, n.customer('alice'))).status).toBe(204);
    const res = await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('ada'));
    const notification = res.body.notifications.find((x: { messageId: string }) => x.messageId === sent.body.id);
    expect(notification.preview).toBeNull();
  });

  test('customer search for "New chat" finds members and non-members by any word of their name, page by page', async () => {
    const bau = await s.api('GET', `/v1/networks/${n.net}/customers?q=bau`, n.admin('ada'));
    expect(bau.body.customers.map((c: { customerId: string }) => c.customerId)).toEqual(['bob', 'carl']);
    expect(bau.body.customers[0]).toMatchObject({ kind: 'nonmember', displayName: 'Bob Bauer' });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { customers: Array<{ customerId: string }>; nextCursor: string | null } } = await s.api(
        'GET',
        `/v1/networks/${n.net}/customers?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        n.admin('ada'),
      );
      seen.push(...res.body.customers.map((c) => c.customerId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['alice', 'bob', 'carl']);
  });

  test('every customer message reached the webhook exactly once, counted when the system is quiet', async () => {
    // Counted when quiet: every delivery settled and its job finished, and no hit for a while after.
    await untilWebhooksQuiet(s.config.redisUrl, n.net, customerMessages.length, { hits: received });

    const successes: Record<string, number> = {};
    for (const r of received.filter((x) => x.answered === 200)) {
      const id = (JSON.parse(r.body) as { message: { id: string } }).message.id;
      successes[id] = (successes[id] ?? 0) + 1;
    }
    expect(successes).toEqual(Object.fromEntries(customerMessages.map((id) => [id, 1])));
    const statuses = (await WebhookDeliveryModel.find({ networkId: n.net }).lean()).map((d) => d.status);
    expect(statuses).toEqual(customerMessages.map(() => 'delivered'));
  });

  test('settings: read back, changed field by field, and a webhook URL needs a secret', async () => {
    const before = await s.api('GET', `/v1/networks/${n.net}/settings`, n.admin('max'));
    expect(before.body).toMatchObject({ chatsEnabled: true, communityVisibility: 'network_members', attachments: { maxBytes: 10 * 1024 * 1024 } });
    const changed = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('max'), { communityVisibility: 'location_members' });
    expect(changed.body).toEqual({ ...before.body, communityVisibility: 'location_members' });
    expect((await s.api('GET', '/v1/me/features', n.customer('alice'))).body.communityVisibility).toBe('location_members');

    const removed = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('max'), { notifications: { webhookSecret: null } });
    expect(removed.status).toBe(400);
    expect(removed.body.error.field).toBe('notifications.webhookSecret');
    const off = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('max'), { notifications: { webhookUrl: null, webhookSecret: null } });
    expect(off.body.notifications).toEqual({ inApp: true, webhookUrl: null, webhookSecretSet: false });
  });
});
