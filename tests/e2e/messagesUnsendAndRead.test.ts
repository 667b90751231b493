import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * Messages through the portal: exactly-once sends, unsend (own messages only, a Matrix redaction
 * as the sender) and read markers (Matrix fully-read marker + unread counts in the chat list).
 */
describe('messages: send once, unsend, read markers', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let chatId: string;
  let roomId: string;

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      customers: { alice: { displayName: 'Alice Andersen' }, bob: { displayName: 'Bob Bauer' } },
      admins: { ada: 'Ada Admin' },
    });
    const chat = await s.api('POST', '/v1/chats', n.customer('alice'), { userId: 'bob' });
    expect(chat.status).toBe(200);
    chatId = chat.body.id;
    roomId = chat.body.matrixRoomId;
  });
  afterAll(async () => {
    await s?.stop();
  });

  const history = async (token: string) => (await s.api('GET', `/v1/chats/${chatId}/messages?limit=50`, token)).body.messages as Array<{ id: string; body: string }>;

  test('the same txnId sent twice, also concurrently, makes one message', async () => {
    const send = () => s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'dup-1', body: 'only once' });
    const results = await Promise.all([send(), send(), send(), send()]);
    const again = await send();
    const ids = new Set([...results, again].map((r) => r.body.id));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(ids.size).toBe(1);
    const copies = (await history(n.customer('bob'))).filter((m) => m.body === 'only once');
    expect(copies).toHaveLength(1);
  });

  test('the sender unsends a message: it is gone for both sides and redacted in Matrix', async () => {
    const sent = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'oops-1', body: 'wrong chat, sorry' });
    expect((await history(n.customer('bob'))).map((m) => m.body)).toContain('wrong chat, sorry');

    const res = await s.api('DELETE', `/v1/chats/${chatId}/messages/${encodeURIComponent(sent.body.id)}`, n.customer('alice'));
    expect(res.status).toBe(204);

    expect((await history(n.customer('bob'))).map((m) => m.body)).not.toContain('wrong chat, sorry');
    expect((await history(n.customer('alice'))).map((m) => m.body)).not.toContain('wrong chat, sorry');
    const { matrix, virtualUsers } = s.all.appservice.services;
    const aliceId = virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'alice' });
    const event = await matrix.getEvent(roomId, sent.body.id, aliceId);
    expect(event?.content).toEqual({});
    const redaction = event?.unsigned?.redacted_because as { sender: string } | undefined;
    expect(redaction?.sender).toBe(aliceId);

    // Unsending again changes nothing and is not an error.
    expect((await s.api('DELETE', `/v1/chats/${chatId}/messages/${encodeURIComponent(sent.body.id)}`, n.customer('alice'))).status).toBe(204);
  });

  test("nobody can unsend another person's message", async () => {
    const sent = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'keep-1', body: 'mine to keep' });
    const res = await s.api('DELETE', `/v1/chats/${chatId}/messages/${encodeURIComponent(sent.body.id)}`, n.customer('bob'));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect((await history(n.customer('alice'))).map((m) => m.body)).toContain('mine to keep');

    const unknown = await s.api('DELETE', `/v1/chats/${chatId}/messages/${encodeURIComponent('$doesnotexist123')}`, n.customer('alice'));
    expect(unknown.status).toBe(404);
    // An administrator is not a participant of a direct conversation.
    const admin = await s.api('DELETE', `/v1/chats/${chatId}/messages/${encodeURIComponent(sent.body.id)}`, n.admin('ada'));
    expect(admin.status).toBe(404);
    // The refusals changed nothing: the message stands for both sides and on Synapse, unredacted.
    expect((await history(n.customer('alice'))).map((m) => m.body)).toContain('mine to keep');
    expect((await history(n.customer('bob'))).map((m) => m.body)).toContain('mine to keep');
    const { matrix, virtualUsers } = s.all.appservice.services;
    const event = await matrix.getEvent(roomId, sent.body.id, virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'bob' }));
    expect({ body: event?.content?.body, redactedBecause: event?.unsigned?.redacted_because }).toEqual({ body: 'mine to keep', redactedBecause: undefined });
  });

  test('reading up to a message sets the Matrix fully-read marker and clears the unread count', async () => {
    const bob = n.customer('bob');
    const first = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'news-1', body: 'news one' });
    const second = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'news-2', body: 'news two' });
    const unreadOf = async () => {
      const list = await s.api('GET', '/v1/chats', bob);
      return list.body.chats.find((c: { id: string }) => c.id === chatId) as { unreadCount: number; lastMessage: { id: string } | null };
    };
    // The conversation index follows Synapse's events; wait until it has seen the newest message.
    await eventually('the newest message in the chat list', async () => (await unreadOf()).lastMessage?.id === second.body.id);
    const before = await unreadOf();
    // Alice's messages since the chat started ("only once", "mine to keep", "news one", "news two"); the unsent one is not counted.
    expect(before.unreadCount).toBe(4);

    const read = await s.api('POST', `/v1/chats/${chatId}/read`, bob, { messageId: first.body.id });
    expect(read.status).toBe(200);
    expect((await unreadOf()).unreadCount).toBe(1);

    expect((await s.api('POST', `/v1/chats/${chatId}/read`, bob, { messageId: second.body.id })).status).toBe(200);
    expect((await unreadOf()).unreadCount).toBe(0);
    // Reading an older message later does not move the marker back.
    expect((await s.api('POST', `/v1/chats/${chatId}/read`, bob, { messageId: first.body.id })).status).toBe(200);
    expect((await unreadOf()).unreadCount).toBe(0);

    const { matrix, virtualUsers } = s.all.appservice.services;
    const bobId = virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'bob' });
    const marker = await matrix.request<{ event_id: string }>(
      'GET',
      `/_matrix/client/v3/user/${encodeURIComponent(bobId)}/rooms/${encodeURIComponent(roomId)}/account_data/m.fully_read`,
      { asUser: bobId },
    );
    expect(marker.event_id).toBe(second.body.id);

    // The writer's own messages are never unread for them.
    const alice = await s.api('GET', '/v1/chats', n.customer('alice'));
    expect(alice.body.chats.find((c: { id: string }) => c.id === chatId).unreadCount).toBe(0);
  });

  test('reading a message that is not in this conversation is refused', async () => {
    const res = await s.api('POST', `/v1/chats/${chatId}/read`, n.customer('bob'), { messageId: '$notinthisroom' });
    expect(res.status).toBe(404);
  });
});
