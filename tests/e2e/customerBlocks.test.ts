import { startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/** Safety: a customer blocks another; the blocked person reaches the blocker by no path and is never told why. */
describe('blocking a customer', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let chatId: string;
  const refusal = { status: 403, code: 'recipient_not_reachable' };
  const outcome = (res: { status: number; body: any }) => ({ status: res.status, code: res.body?.error?.code });
  const communityOf = async (who: string) => (await s.api('GET', '/v1/community', n.customer(who))).body.people.map((p: { customerId: string }) => p.customerId).sort();

  const matrixSend = async (who: string, body: string) => {
    const session = (await s.api('POST', '/v1/me/matrix-session', n.customer(who))).body;
    const room = (await s.api('GET', `/v1/chats/${chatId}`, n.customer('ada'))).body.matrixRoomId;
    const res = await fetch(`${session.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/m${Date.now()}${Math.random()}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'm.text', body }),
    });
    return { status: res.status, error: ((await res.json()) as { error?: string }).error };
  };

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      communityVisibility: 'network_members',
      customers: { ada: { displayName: 'Ada' }, bo: { displayName: 'Bo' }, cy: { displayName: 'Cy' } },
      admins: { 'admin-1': 'Admin One' },
    });
    chatId = (await s.api('POST', '/v1/chats', n.customer('ada'), { userId: 'bo' })).body.id;
    expect((await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('bo'), { txnId: 'before', body: 'hi Ada' })).status).toBe(201);
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('bad blocks are 400 or 404, and only customers block', async () => {
    expect(outcome(await s.api('PUT', '/v1/me/blocks/ada', n.customer('ada')))).toEqual({ status: 400, code: 'invalid_request' });
    expect(outcome(await s.api('PUT', '/v1/me/blocks/admin-1', n.customer('ada')))).toEqual({ status: 400, code: 'invalid_request' });
    expect(outcome(await s.api('PUT', '/v1/me/blocks/nobody', n.customer('ada')))).toEqual({ status: 404, code: 'not_found' });
    expect((await s.api('PUT', '/v1/me/blocks/bo', n.admin('admin-1'))).status).toBe(403);
  });

  test('blocked: no chat, no message, no reaction, not on the Community page; the blocker still reads and writes', async () => {
    expect(await communityOf('bo')).toEqual(['ada', 'cy']);
    expect((await s.api('PUT', '/v1/me/blocks/bo', n.customer('ada'))).status).toBe(204);
    expect((await s.api('PUT', '/v1/me/blocks/bo', n.customer('ada'))).status).toBe(204);
    expect((await s.api('GET', '/v1/me/blocks', n.customer('ada'))).body.blocks.map((b: { customerId: string }) => b.customerId)).toEqual(['bo']);

    expect(outcome(await s.api('POST', '/v1/chats', n.customer('bo'), { userId: 'ada' }))).toEqual(refusal);
    expect(outcome(await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('bo'), { txnId: 'after', body: 'hello?' }))).toEqual(refusal);
    const history = await s.api('GET', `/v1/chats/${chatId}/messages`, n.customer('ada'));
    const first = history.body.messages[0].id;
    expect(outcome(await s.api('PUT', `/v1/chats/${chatId}/messages/${encodeURIComponent(first)}/reactions/${encodeURIComponent('👍')}`, n.customer('bo')))).toEqual(refusal);
    expect(await communityOf('bo')).toEqual(['cy']);
    // A Matrix client of Bo's is refused by the homeserver itself, with the same sentence.
    expect(await matrixSend('bo', 'from my Matrix client')).toEqual({ status: 403, error: 'This person cannot be messaged.' });
    // The blocker still sees Bo and the history, and may write.
    expect(await communityOf('ada')).toEqual(['bo', 'cy']);
    expect(history.body.messages.map((m: { body: string }) => m.body)).toEqual(['hi Ada']);
    expect((await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('ada'), { txnId: 'ada-1', body: 'please stop' })).status).toBe(201);
    // Support is never affected, and a third person is not either.
    expect((await s.api('POST', '/v1/chats/support', n.customer('bo'))).status).toBeLessThan(300);
    expect((await s.api('POST', '/v1/chats', n.customer('bo'), { userId: 'cy' })).status).toBe(200);
  });

  test('unblocking restores everything', async () => {
    expect((await s.api('DELETE', '/v1/me/blocks/bo', n.customer('ada'))).status).toBe(204);
    expect((await s.api('GET', '/v1/me/blocks', n.customer('ada'))).body.blocks).toEqual([]);
    expect((await s.api('POST', '/v1/chats', n.customer('bo'), { userId: 'ada' })).body.id).toBe(chatId);
    expect((await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('bo'), { txnId: 'after-unblock', body: 'sorry' })).status).toBe(201);
    expect(await communityOf('bo')).toEqual(['ada', 'cy']);
    expect((await matrixSend('bo', 'back on Matrix')).status).toBe(200);
  });
});
