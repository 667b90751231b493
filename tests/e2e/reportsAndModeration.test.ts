import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/** Safety: reports from the portal and from Matrix clients reach one queue; administrators act on them. */
describe('reports and moderation', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let other: NetworkFixture;
  let chat: { id: string; matrixRoomId: string };
  const send = async (who: string, body: string) => (await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer(who), { txnId: `t-${Math.random().toString(36).slice(2)}`, body })).body.id as string;
  const queue = async (status = 'open') => (await s.api('GET', `/v1/networks/${n.net}/reports?status=${status}`, n.admin('admin-1'))).body.reports as Array<Record<string, any>>;

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, { customers: { ada: { displayName: 'Ada' }, bo: { displayName: 'Bo' }, cy: { displayName: 'Cy' } }, admins: { 'admin-1': 'Admin One' } });
    other = await createNetwork(s, { customers: { eve: { displayName: 'Eve' } }, admins: { 'admin-x': 'Admin X' } });
    chat = (await s.api('POST', '/v1/chats', n.customer('ada'), { userId: 'bo' })).body;
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('bad reports: no target 400, a message of a conversation the reporter is not in 404, administrators do not report', async () => {
    const rude = await send('bo', 'first words');
    expect((await s.api('POST', '/v1/reports', n.customer('ada'), { reason: 'spam' })).status).toBe(400);
    expect((await s.api('POST', '/v1/reports', n.customer('ada'), { customerId: 'bo', reason: 'nonsense' })).status).toBe(400);
    expect((await s.api('POST', '/v1/reports', n.customer('cy'), { messageId: rude, reason: 'spam' })).status).toBe(404);
    expect((await s.api('POST', '/v1/reports', n.customer('ada'), { customerId: 'nobody', reason: 'spam' })).status).toBe(404);
    expect((await s.api('POST', '/v1/reports', n.admin('admin-1'), { customerId: 'bo', reason: 'spam' })).status).toBe(403);
  });

  test('a reported message keeps its text after it is unsent; administrators are notified, the reported person is not', async () => {
    const rude = await send('bo', 'you are awful');
    const made = await s.api('POST', '/v1/reports', n.customer('ada'), { chatId: chat.id, messageId: rude, reason: 'harassment', details: 'again' });
    expect(made.status).toBe(201);
    expect((await s.api('DELETE', `/v1/chats/${chat.id}/messages/${encodeURIComponent(rude)}`, n.customer('bo'))).status).toBeLessThan(300);
    const report = (await queue()).find((r) => r.id === made.body.id);
    expect(report).toMatchObject({ source: 'portal', reason: 'harassment', details: 'again', reporterId: 'ada', customerId: 'bo', chatId: chat.id, messageId: rude, messageText: 'you are awful', status: 'open' });
    const notes = (await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('admin-1'))).body.notifications;
    expect(notes.some((x: { type: string; reportId?: string }) => x.type === 'report' && x.reportId === made.body.id)).toBe(true);
    // Another network's administrator sees nothing of it and cannot act on it.
    expect((await s.api('PATCH', `/v1/networks/${other.net}/reports/${made.body.id}`, other.admin('admin-x'), { status: 'dismissed' })).status).toBe(404);
    expect((await s.api('GET', `/v1/networks/${n.net}/reports`, other.admin('admin-x'))).status).toBe(404);
  });

  test("a Matrix client's report reaches the same queue; removing the message redacts it for everyone", async () => {
    const spam = await send('bo', 'buy cheap desks at example.com');
    const ada = (await s.api('POST', '/v1/me/matrix-session', n.customer('ada'))).body;
    const reported = await fetch(`${ada.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(chat.matrixRoomId)}/report/${encodeURIComponent(spam)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ada.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'spam from a Matrix client' }),
    });
    expect(reported.status).toBe(200);
    const report = await eventually('the Matrix report in the queue', async () => (await queue()).find((r) => r.messageId === spam));
    expect(report).toMatchObject({ source: 'matrix', reporterId: 'ada', customerId: 'bo', chatId: chat.id, messageText: 'buy cheap desks at example.com', details: 'spam from a Matrix client' });

    const acted = await s.api('PATCH', `/v1/networks/${n.net}/reports/${report.id}`, n.admin('admin-1'), { status: 'resolved', action: 'remove_message' });
    expect(acted.status).toBe(200);
    expect(acted.body.actions).toEqual([expect.objectContaining({ adminId: 'admin-1', status: 'resolved', action: 'remove_message' })]);
    const event = await s.all.appservice.services.matrix.getEvent(chat.matrixRoomId, spam, ada.userId);
    expect((event?.unsigned?.redacted_because as { content?: { reason?: string } } | undefined)?.content?.reason).toBe("Removed by the network's administrators after a report");
    await eventually('the message gone from the portal', async () => {
      const history = await s.api('GET', `/v1/chats/${chat.id}/messages`, n.customer('ada'));
      return !history.body.messages.some((m: { id: string }) => m.id === spam);
    });
    expect((await queue('resolved')).map((r) => r.id)).toContain(report.id);
  });

  test("suspending a customer's chats stops their sending everywhere until it is lifted", async () => {
    const made = await s.api('POST', '/v1/reports', n.customer('ada'), { customerId: 'bo', reason: 'spam' });
    expect((await s.api('PATCH', `/v1/networks/${n.net}/reports/${made.body.id}`, n.admin('admin-1'), { status: 'resolved', action: 'suspend_chats' })).status).toBe(200);
    const refused = await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('bo'), { txnId: 'while-suspended', body: 'hello?' });
    expect({ status: refused.status, code: refused.body.error?.code, message: refused.body.error?.message }).toEqual({
      status: 403,
      code: 'forbidden',
      message: "your chats are suspended by the network's administrators",
    });
    const support = (await s.api('POST', '/v1/chats/support', n.customer('bo'))).body;
    expect((await s.api('POST', `/v1/chats/${support.id}/messages`, n.customer('bo'), { txnId: 'support-suspended', body: 'help' })).status).toBe(403);
    const bo = (await s.api('POST', '/v1/me/matrix-session', n.customer('bo'))).body;
    const fromMatrix = await fetch(`${bo.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(chat.matrixRoomId)}/send/m.room.message/suspended-1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bo.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'm.text', body: 'via Matrix' }),
    });
    expect(fromMatrix.status).toBe(403);
    // Others are told only that Bo cannot be reached.
    expect((await s.api('POST', '/v1/chats', n.customer('cy'), { userId: 'bo' })).body.error?.code).toBe('recipient_not_reachable');

    expect((await s.api('PATCH', `/v1/networks/${n.net}/reports/${made.body.id}`, n.admin('admin-1'), { status: 'resolved', action: 'lift_suspension' })).status).toBe(200);
    expect((await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('bo'), { txnId: 'after-lift', body: 'sorry' })).status).toBe(201);
  });
});
