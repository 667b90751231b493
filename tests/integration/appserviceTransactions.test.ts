import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from '../e2e/networkFixture';
import { startWebhookReceiver, untilWebhooksQuiet, type WebhookReceiver } from '../support/webhooks';
import { AppserviceTransactionModel, ConversationModel, ProcessedEventModel, SupportInboxHeadModel } from '../../store';

/** The listener Synapse pushes to: authentication, durability and de-duplication. */
describe('appservice transaction listener', () => {
  let s: TestServices;
  let webhook: WebhookReceiver;
  beforeAll(async () => {
    webhook = await startWebhookReceiver();
    // The receiver runs on loopback, which webhooks may only reach when the operator allows it.
    s = await startServices({ WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' });
  });
  afterAll(async () => {
    await s?.stop();
    await webhook?.close();
  });

  const push = (txnId: string, token: string | null, body: unknown) =>
    fetch(`${s.config.appservice.url}/_matrix/app/v1/transactions/${txnId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  test('refuses a missing or wrong hs_token and stores nothing', async () => {
    const txnId = `t-auth-${Date.now()}`;
    expect((await push(txnId, null, { events: [] })).status).toBe(401);
    const wrong = await push(txnId, 'not-the-token', { events: [] });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ errcode: 'M_FORBIDDEN', error: 'bad hs_token' });
    expect(await AppserviceTransactionModel.exists({ _id: txnId })).toBeNull();
  });

  test('a transaction re-sent by Synapse is stored and applied once', async () => {
    const txnId = `t-dup-${Date.now()}`;
    const event = {
      event_id: `$dup-${Date.now()}`,
      room_id: '!not-a-conversation:localhost',
      type: 'm.room.message',
      sender: '@someone:localhost',
      origin_server_ts: Date.now(),
      content: { msgtype: 'm.text', body: 'hi' },
    };
    const hsToken = s.all.appservice.services.registration.hsToken;
    for (let i = 0; i < 3; i++) {
      const res = await push(txnId, hsToken, { events: [event] });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
    }
    expect(await AppserviceTransactionModel.countDocuments({ _id: txnId })).toBe(1);
    await eventually('the transaction to be processed', async () => (await AppserviceTransactionModel.findById(txnId).lean())?.processedAt);
    expect(await ProcessedEventModel.countDocuments({ _id: event.event_id })).toBe(1);
  });

  test('a processed transaction re-pushed into a real conversation moves nothing: unread counts, inbox, notifications, webhooks', async () => {
    const n: NetworkFixture = await createNetwork(s, { customers: { cleo: { displayName: 'Cleo Customer' } }, admins: { ada: 'Ada Admin' } });
    expect((await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), { notifications: { webhookUrl: webhook.url, webhookSecret: 'whsec-exactly-once' } })).status).toBe(200);
    const chat = (await s.api('POST', '/v1/chats/support', n.customer('cleo'))).body;
    const send = async (txnId: string, body: string, token: string) => {
      const res = await s.api('POST', `/v1/chats/${chat.id}/messages`, token, { txnId, body });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const first = await send('c1', 'first question', n.customer('cleo'));
    const second = await send('c2', 'second question', n.customer('cleo'));
    const answer = await send('a1', 'an answer', n.admin('ada'));

    /** Everything a re-applied event could move, as the portal shows it and as the index keeps it. */
    const snapshot = async () => {
      const inbox = (await s.api('GET', `/v1/networks/${n.net}/chats`, n.admin('ada'))).body;
      const mine = (await s.api('GET', '/v1/chats', n.customer('cleo'))).body;
      const notifications = (await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('ada'))).body;
      const head = await SupportInboxHeadModel.findById(n.net).lean();
      const conversation = await ConversationModel.findById(chat.id).lean();
      return {
        inbox: inbox.chats.map((c: { id: string; unreadCount: number; lastMessage: { id: string } | null }) => ({ id: c.id, unread: c.unreadCount, last: c.lastMessage?.id })),
        customer: mine.chats.map((c: { id: string; unreadCount: number; lastMessage: { id: string } | null }) => ({ id: c.id, unread: c.unreadCount, last: c.lastMessage?.id })),
        notifications: { unread: notifications.unreadCount, ids: notifications.notifications.map((x: { messageId: string }) => x.messageId) },
        head: { version: head?.version, entries: head?.entries.map((e) => ({ chatId: e.chatId, at: new Date(e.at).toISOString() })) },
        // Moved by every message the index applies: a second application shows here even when
        // every handler absorbs it.
        revision: conversation?.revision,
        webhooks: webhook.successesPerMessage(),
      };
    };

    // Settled: the index has the answer, both questions notified and delivered, every push processed.
    await eventually('the answer indexed and both questions notified', async () => {
      const state = await snapshot();
      return state.inbox[0]?.last === answer && state.notifications.unread === 2;
    });
    await untilWebhooksQuiet(s.config.redisUrl, n.net, 2, webhook);
    const carrying = await eventually('the transaction that carried the first question, processed', async () => {
      const txn = await AppserviceTransactionModel.findOne({ eventsJson: { $regex: first.replace(/[$]/g, '\\$') } }).lean();
      return txn?.processedAt ? txn : null;
    });
    const before = await snapshot();
    expect(before).toMatchObject({
      inbox: [{ id: chat.id, unread: 2, last: answer }],
      customer: [{ id: chat.id, unread: 1, last: answer }],
      notifications: { unread: 2, ids: [second, first] },
      webhooks: { [first]: 1, [second]: 1 },
    });

    // Synapse re-sends the processed transaction (same id), and its events again in a new one.
    const hsToken = s.all.appservice.services.registration.hsToken;
    const body = { events: JSON.parse(carrying.eventsJson), ephemeral: JSON.parse(carrying.ephemeralJson) };
    expect(body.events.map((e: { event_id: string }) => e.event_id)).toContain(first);
    const again = `t-again-${Date.now()}`;
    for (const [txnId, payload] of [[String(carrying._id), body], [again, body]] as const) {
      const res = await push(txnId, hsToken, payload);
      expect(res.status).toBe(200);
    }
    // Transactions are applied in arrival order: once an empty one pushed last is processed, so
    // are both re-pushes. Then the webhook side gets time to show anything new.
    const barrier = `t-barrier-${Date.now()}`;
    expect((await push(barrier, hsToken, { events: [] })).status).toBe(200);
    await eventually('the re-pushes processed', async () => (await AppserviceTransactionModel.findById(barrier).lean())?.processedAt);
    expect((await AppserviceTransactionModel.findById(again).lean())?.processedAt).toBeTruthy();
    await untilWebhooksQuiet(s.config.redisUrl, n.net, 2, webhook);

    expect(await snapshot()).toEqual(before);
  });
});
