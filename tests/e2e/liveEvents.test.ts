import * as sdk from 'matrix-js-sdk';
import { startPortalApi, type PortalApiHandle } from '../../portal-api';
import { startServices, eventually, type TestServices } from '../support/harness';
import { openEventStream, type EventStreamConnection, type ReceivedEvent } from '../support/eventStreamClient';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * The live event stream (GET /v1/events) against the real Synapse: portal sends, a Matrix
 * client's messages, typing and receipts reach the portal's stream; the portal's typing and read
 * marker reach the Matrix client; resume after a disconnect; a second API process; tickets, the
 * per-caller cap, and the stream ending with the token or the account.
 */
describe('live events', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let chatId: string;
  let roomId: string;
  let matrixAlice: sdk.MatrixClient;
  const open: EventStreamConnection[] = [];

  const stream = async (opts: Parameters<typeof openEventStream>[1], baseUrl = s.baseUrl) => {
    const c = await openEventStream(baseUrl, opts);
    open.push(c);
    return c;
  };
  const send = (token: string, txnId: string, body: string) => s.api('POST', `/v1/chats/${chatId}/messages`, token, { txnId, body });
  const userId = (id: string) => s.all.appservice.services.virtualUsers.userId({ kind: 'customer', networkId: n.net, id });
  const ofChat = (type: string, extra: (e: ReceivedEvent) => boolean = () => true) => (e: ReceivedEvent) => e.type === type && e.data?.chatId === chatId && extra(e);

  beforeAll(async () => {
    s = await startServices({ LIVE_HEARTBEAT_MS: '300' });
    n = await createNetwork(s, {
      customers: { alice: { displayName: 'Alice Andersen' }, bob: { displayName: 'Bob Bauer' }, carol: { displayName: 'Carol Chen' } },
      admins: { ada: 'Ada Admin' },
    });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    matrixAlice?.stopClient();
    await s?.stop();
  });

  test('without a valid token or ticket the stream answers 401; a ticket opens one stream only', async () => {
    const none = await stream({});
    expect({ status: none.status, code: none.errorBody?.error?.code }).toEqual({ status: 401, code: 'unauthenticated' });
    const forged = await stream({ ticket: 'A'.repeat(43) });
    expect({ status: forged.status, code: forged.errorBody?.error?.code }).toEqual({ status: 401, code: 'unauthenticated' });
    const expired = await stream({ token: s.token('customer', 'bob', n.net, -60) });
    expect(expired.status).toBe(401);
    // Operators and the host platform have no stream.
    expect((await stream({ token: s.token('service', 'host', n.net) })).status).toBe(403);

    const issued = await s.api('POST', '/v1/me/event-ticket', n.customer('bob'));
    expect(issued.status).toBe(200);
    expect(issued.body.expiresIn).toBeLessThanOrEqual(60);
    const first = await stream({ ticket: issued.body.ticket });
    expect(first.status).toBe(200);
    const again = await stream({ ticket: issued.body.ticket });
    expect({ status: again.status, message: again.errorBody?.error?.message }).toEqual({ status: 401, message: 'the ticket is not valid (unknown, already used or expired)' });
    // The heartbeat (300 ms in this test) keeps the idle stream alive with comment lines.
    await eventually('heartbeat comments', async () => first.comments >= 2, 5000);
    first.close();
  });

  test('portal send: chat.created, then message.created at once and chat.updated once indexed, each once', async () => {
    const bob = await stream({ token: n.customer('bob') });
    const chat = await s.api('POST', '/v1/chats', n.customer('alice'), { userId: 'bob' });
    chatId = chat.body.id;
    roomId = chat.body.matrixRoomId;
    const created = await bob.next((e) => e.type === 'chat.created' && e.data.id === chatId, 15000, 'chat.created');
    expect(created.data).toMatchObject({ chatId, kind: 'direct', customerIds: ['alice', 'bob'], matrixRoomId: roomId });
    // The chat as Bob's GET /v1/chats lists it, names and unread count included.
    const listed = await s.api('GET', '/v1/chats', n.customer('bob'));
    const { chatId: _, ...createdChat } = created.data;
    expect(createdChat).toEqual(listed.body.chats.find((c: { id: string }) => c.id === chatId));
    expect(createdChat.participants.map((p: { customerId: string; displayName: string }) => p.customerId)).toEqual(['alice', 'bob']);

    const sent = await send(n.customer('alice'), 'live-1', 'hello live');
    expect(sent.status).toBe(201);
    const message = await bob.next(ofChat('message.created', (e) => e.data.id === sent.body.id), 10000, 'message.created');
    expect(message.data).toMatchObject({ id: sent.body.id, chatId, body: 'hello live', type: 'text', sender: { kind: 'customer', id: 'alice' } });
    // chat.updated comes from the appservice, once Synapse's transaction carried the same event.
    const updated = await bob.next(ofChat('chat.updated', (e) => e.data.lastMessage?.id === sent.body.id), 15000, 'chat.updated');
    expect(updated.data).toMatchObject({ chatId, id: chatId, unreadCount: 1, lastMessage: { body: 'hello live', senderId: 'alice' } });
    expect(bob.events.filter((e) => e.type === 'message.created' && e.data.id === sent.body.id)).toHaveLength(1);
    // Ids increase along the stream.
    const ids = bob.events.map((e) => e.id);
    expect([...ids].sort(compareIds)).toEqual(ids);
    // Carol takes no part in the conversation: nothing of it reaches her.
    const carol = await stream({ token: n.customer('carol') });
    await send(n.customer('alice'), 'live-2', 'not for carol');
    await bob.next(ofChat('message.created', (e) => e.data.body === 'not for carol'));
    await bob.next(ofChat('chat.updated', (e) => e.data.lastMessage?.body === 'not for carol'), 15000);
    expect(carol.events.filter((e) => e.data?.chatId === chatId)).toEqual([]);
    bob.close();
    carol.close();
  });

  test("a Matrix client's message, typing and read receipt reach the portal's stream", async () => {
    const session = await s.api('POST', '/v1/me/matrix-session', n.customer('alice'));
    expect(session.status).toBe(200);
    matrixAlice = sdk.createClient({ baseUrl: session.body.homeserverUrl, accessToken: session.body.accessToken, userId: session.body.userId, deviceId: session.body.deviceId });
    await matrixAlice.startClient({ initialSyncLimit: 5 });
    const bob = await stream({ token: n.customer('bob') });

    const { event_id: fromMatrix } = await matrixAlice.sendTextMessage(roomId, 'from Element');
    const message = await bob.next(ofChat('message.created', (e) => e.data.id === fromMatrix), 15000, "the Matrix client's message");
    expect(message.data).toMatchObject({ body: 'from Element', sender: { kind: 'customer', id: 'alice' } });

    await matrixAlice.sendTyping(roomId, true, 20000);
    const typing = await bob.next(ofChat('typing', (e) => e.data.userIds.includes('alice')), 15000, 'typing');
    expect(typing.data).toMatchObject({ chatId, userIds: ['alice'], participants: [{ kind: 'customer', id: 'alice' }] });
    await matrixAlice.sendTyping(roomId, false, 0);
    await bob.next(ofChat('typing', (e) => e.data.userIds.length === 0), 15000, 'typing stopped');

    // Bob writes; Alice reads it in Element: the receipt moves her portal marker ("seen").
    const bobs = await send(n.customer('bob'), 'live-3', 'did you see this?');
    await eventually('the message on the Matrix side', async () => matrixAlice.getRoom(roomId)?.findEventById(bobs.body.id));
    await matrixAlice.setRoomReadMarkersHttpRequest(roomId, bobs.body.id, bobs.body.id);
    const read = await bob.next(ofChat('chat.read', (e) => e.data.participant.id === 'alice' && e.data.messageId === bobs.body.id), 15000, 'chat.read');
    expect(read.data).toMatchObject({ participant: { kind: 'customer', id: 'alice' }, messageId: bobs.body.id });
    const details = await s.api('GET', `/v1/chats/${chatId}`, n.customer('bob'));
    expect(details.body.readMarkers).toContainEqual({ participant: { kind: 'customer', id: 'alice' }, messageId: bobs.body.id, readAt: expect.any(String) });
    bob.close();
  });

  test("the portal's typing and read marker reach the Matrix client", async () => {
    const typingRes = await s.api('POST', `/v1/chats/${chatId}/typing`, n.customer('bob'), { typing: true });
    expect(typingRes.status).toBe(204);
    await eventually('bob typing in Element', async () => matrixAlice.getRoom(roomId)?.getMember(userId('bob'))?.typing === true, 15000);
    expect((await s.api('POST', `/v1/chats/${chatId}/typing`, n.customer('bob'), { typing: false })).status).toBe(204);
    await eventually('bob no longer typing in Element', async () => matrixAlice.getRoom(roomId)?.getMember(userId('bob'))?.typing === false, 15000);
    expect((await s.api('POST', `/v1/chats/${chatId}/typing`, n.customer('bob'), { typing: 'yes' })).status).toBe(400);
    expect((await s.api('POST', `/v1/chats/${chatId}/typing`, n.customer('carol'), { typing: true })).status).toBe(404);

    const alices = await send(n.customer('alice'), 'live-4', 'read me');
    const alice = await stream({ token: n.customer('alice') });
    expect((await s.api('POST', `/v1/chats/${chatId}/read`, n.customer('bob'), { messageId: alices.body.id })).status).toBe(200);
    await eventually('bob\'s receipt in Element', async () => matrixAlice.getRoom(roomId)?.getEventReadUpTo(userId('bob')) === alices.body.id, 15000);
    await alice.next(ofChat('chat.read', (e) => e.data.participant.id === 'bob' && e.data.messageId === alices.body.id), 15000, 'chat.read of bob');
    // The receipt coming back through the appservice moves nothing: one chat.read.
    await new Promise((r) => setTimeout(r, 1500));
    expect(alice.events.filter((e) => e.type === 'chat.read' && e.data.messageId === alices.body.id)).toHaveLength(1);
    alice.close();
  });

  test('message.updated says `mine` for each recipient: the reactor sees their reaction as theirs, the others do not', async () => {
    const alice = await stream({ token: n.customer('alice') });
    const bob = await stream({ token: n.customer('bob') });
    const sent = await send(n.customer('alice'), 'live-react', 'react to me');
    expect(sent.status).toBe(201);
    const messageId = sent.body.id as string;
    await bob.next(ofChat('message.created', (e) => e.data.id === messageId), 10000, 'message.created');
    expect((await s.api('PUT', `/v1/chats/${chatId}/messages/${encodeURIComponent(messageId)}/reactions/${encodeURIComponent('👍')}`, n.customer('bob'))).status).toBe(204);
    const reacted = (e: ReceivedEvent) => e.data.id === messageId && e.data.reactions?.length === 1;
    const [toBob, toAlice] = await Promise.all([
      bob.next(ofChat('message.updated', reacted), 15000, "message.updated on Bob's stream"),
      alice.next(ofChat('message.updated', reacted), 15000, "message.updated on Alice's stream"),
    ]);
    expect(toBob.data.reactions).toEqual([{ key: '👍', count: 1, mine: true }]);
    expect(toAlice.data.reactions).toEqual([{ key: '👍', count: 1, mine: false }]);
    // Each is what that person's history shows.
    const historyOf = async (who: string) => (await s.api('GET', `/v1/chats/${chatId}/messages`, n.customer(who))).body.messages.find((m: { id: string }) => m.id === messageId);
    expect((await historyOf('bob')).reactions).toEqual(toBob.data.reactions);
    expect((await historyOf('alice')).reactions).toEqual(toAlice.data.reactions);
    alice.close();
    bob.close();
  });

  test('a new stream begins with stream.opened; one lost before any other event resumes from it and misses nothing', async () => {
    // Seen in chaos R8: a listener whose process died before its first event reconnected without
    // Last-Event-ID and never got the messages sent to it meanwhile.
    const lost = await stream({ token: n.customer('bob') });
    const opened = await lost.next((e) => e.type === 'stream.opened', 15000, 'stream.opened');
    expect(lost.events[0]).toBe(opened);
    expect(opened.data).toEqual({});
    lost.close();
    await send(n.customer('alice'), 'opened-1', 'sent while bob was away');
    const back = await stream({ token: n.customer('bob'), lastEventId: opened.id });
    const missed = await back.next(ofChat('message.created', (e) => e.data.body === 'sent while bob was away'), 20000);
    expect(compareIds(missed.id, opened.id)).toBeGreaterThan(0);
    // A resumed stream says nothing of where it begins: its client knows.
    expect(back.events.some((e) => e.type === 'stream.opened')).toBe(false);
  });

  test('resume with Last-Event-ID delivers exactly what was missed, in order, none twice', async () => {
    const steady = await stream({ token: n.customer('bob') });
    const flaky = await stream({ token: n.customer('bob') });
    await send(n.customer('alice'), 'resume-0', 'before the gap');
    await flaky.next(ofChat('message.created', (e) => e.data.body === 'before the gap'));
    const resumeFrom = flaky.lastId()!;
    const before = [...flaky.events];
    flaky.close();
    for (let i = 1; i <= 6; i++) await send(n.customer('alice'), `resume-${i}`, `missed ${i}`);
    await steady.next(ofChat('chat.updated', (e) => e.data.lastMessage?.body === 'missed 6'), 20000, 'the last chat.updated');
    const resumed = await stream({ token: n.customer('bob'), lastEventId: resumeFrom });
    await send(n.customer('alice'), 'resume-7', 'after the gap');
    await resumed.next(ofChat('chat.updated', (e) => e.data.lastMessage?.body === 'after the gap'), 20000);
    await steady.next(ofChat('chat.updated', (e) => e.data.lastMessage?.body === 'after the gap'), 20000);
    // What the steady listener saw from the gap on is exactly what the resumed one got, by id.
    const steadyIds = steady.events.map((e) => e.id).filter((id) => compareIds(id, resumeFrom) > 0);
    expect(resumed.events.map((e) => e.id)).toEqual(steadyIds);
    expect(new Set([...before, ...resumed.events].map((e) => e.id)).size).toBe(before.length + resumed.events.length);
    expect(resumed.events.filter((e) => e.type === 'message.created').map((e) => e.data.body)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `missed ${i}`).concat('after the gap'));
    // The same through the query parameter, from the same point.
    const byQuery = await stream({ token: n.customer('bob'), lastEventIdQuery: resumeFrom });
    await byQuery.next(ofChat('chat.updated', (e) => e.data.lastMessage?.body === 'after the gap'));
    expect(byQuery.events.map((e) => e.id)).toEqual(steadyIds);
    // An id older than the log (or not ours) gets one resync.
    const stale = await stream({ token: n.customer('bob'), lastEventId: '1-0' });
    const resync = await stale.next((e) => e.type === 'resync');
    expect(stale.events.filter((e) => e.type === 'resync')).toHaveLength(1);
    expect(resync.id).toMatch(/^\d+-\d+$/);
    for (const c of [steady, resumed, byQuery, stale]) c.close();
  });

  test('support chat: the administrators get the chat, its messages and notification.created; an unsend reaches them once', async () => {
    const ada = await stream({ token: n.admin('ada') });
    const support = await s.api('POST', '/v1/chats/support', n.customer('alice'));
    expect(support.status).toBe(200);
    const supportId = support.body.id;
    await ada.next((e) => e.type === 'chat.created' && e.data.chatId === supportId, 15000, 'chat.created of the support chat');
    const sent = await s.api('POST', `/v1/chats/${supportId}/messages`, n.customer('alice'), { txnId: 'help-1', body: 'my door code fails' });
    await ada.next((e) => e.type === 'message.created' && e.data.id === sent.body.id, 10000, 'the support message');
    const note = await ada.next((e) => e.type === 'notification.created' && e.data.messageId === sent.body.id, 15000, 'notification.created');
    expect(note.data).toMatchObject({ type: 'support_message', chatId: supportId, customerId: 'alice', preview: 'my door code fails', read: false });
    const updated = await ada.next((e) => e.type === 'chat.updated' && e.data.chatId === supportId && e.data.lastMessage?.id === sent.body.id, 15000);
    expect(updated.data.unreadCount).toBe(1);
    // Bob is no participant of Alice's support chat.
    const bob = await stream({ token: n.customer('bob') });
    expect((await s.api('DELETE', `/v1/chats/${supportId}/messages/${encodeURIComponent(sent.body.id)}`, n.customer('alice'))).status).toBe(204);
    await ada.next((e) => e.type === 'message.deleted' && e.data.id === sent.body.id, 10000, 'message.deleted');
    // The redaction coming back through the appservice is not announced again; the summary follows it.
    await ada.next((e) => e.type === 'chat.updated' && e.data.chatId === supportId && e.data.lastMessage === null, 15000, 'the summary without the message');
    expect(ada.events.filter((e) => e.type === 'message.deleted' && e.data.id === sent.body.id)).toHaveLength(1);
    expect(bob.events.filter((e) => e.data?.chatId === supportId)).toEqual([]);
    ada.close();
    bob.close();
  });

  test('two API processes: a listener on one sees a send made on the other', async () => {
    let second: PortalApiHandle | null = null;
    try {
      second = await startPortalApi(s.config, { log: undefined });
      const bob = await stream({ token: n.customer('bob') }, second.url);
      const sent = await send(n.customer('alice'), 'two-1', 'across processes');
      const message = await bob.next(ofChat('message.created', (e) => e.data.id === sent.body.id), 10000, 'the message on the other process');
      expect(message.data.body).toBe('across processes');
      bob.close();
    } finally {
      await second?.stop();
    }
  });

  test('at most 5 streams per caller: the sixth is answered 429 until one closes', async () => {
    const five = await Promise.all([1, 2, 3, 4, 5].map(() => stream({ token: n.customer('carol') })));
    expect(five.map((c) => c.status)).toEqual([200, 200, 200, 200, 200]);
    const sixth = await stream({ token: n.customer('carol') });
    expect({ status: sixth.status, code: sixth.errorBody?.error?.code }).toEqual({ status: 429, code: 'too_many_streams' });
    five[0]!.close();
    const again = await eventually('a slot after one closed', async () => {
      const c = await stream({ token: n.customer('carol') });
      return c.status === 200 ? c : null;
    }, 5000);
    expect(again.status).toBe(200);
    for (const c of [...five, again]) c.close();
  });

  test('the stream ends when the token expires and when the customer is deactivated', async () => {
    const shortLived = await stream({ token: s.token('customer', 'bob', n.net, 2) });
    expect(shortLived.status).toBe(200);
    await Promise.race([shortLived.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream outlived its token')), 10000))]);

    const carol = await stream({ token: n.customer('carol') });
    expect(carol.status).toBe(200);
    const res = await s.api('PUT', `/v1/networks/${n.net}/customers/carol`, n.service, { kind: 'member', displayName: 'Carol Chen', locationIds: [], hideNameOnBookings: false, status: 'deactivated' });
    expect(res.status).toBeLessThan(300);
    await Promise.race([carol.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream outlived the account')), 10000))]);
    const refused = await stream({ token: n.customer('carol') });
    expect(refused.status).toBe(403);
  });

  test('the OpenAPI document describes the new routes', async () => {
    const doc = (await s.api('GET', '/v1/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/events'].get.responses['200'].content)).toEqual(['text/event-stream']);
    expect(doc.paths['/v1/events'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['lastEventId', 'ticket']);
    expect(doc.paths['/v1/me/event-ticket'].post.summary).toMatch(/single-use ticket/);
    expect(doc.paths['/v1/chats/{chatId}/typing'].post.requestBody.content['application/json'].schema.properties.typing.type).toBe('boolean');
  });

  test('features.changed reaches the network when chats are toggled', async () => {
    const bob = await stream({ token: n.customer('bob') });
    expect((await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), { chatsEnabled: false })).status).toBe(200);
    const off = await bob.next((e) => e.type === 'features.changed' && e.data.chats === false);
    expect(off.data).toEqual({ chats: false, communityVisibility: expect.any(String) });
    expect((await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), { chatsEnabled: true })).status).toBe(200);
    await bob.next((e) => e.type === 'features.changed' && e.data.chats === true);
    bob.close();
  });
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
}
