import { AdminNotificationModel, IndexedMessageModel } from '../../store';
import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * Rule 1 holds on the Matrix side before the toggle's fan-out reaches a room: with the workers
 * down (the fan-out queued and waiting), a message a Matrix client sends into a conversation of a
 * network whose chats were just turned off is removed, never indexed, never notified.
 */
describe('chats off: no window for Matrix clients while the fan-out is queued', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let ada: { homeserverUrl: string; userId: string; accessToken: string };
  let roomId: string;

  async function send(body: string): Promise<string> {
    const res = await fetch(`${ada.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${body.replace(/\W/g, '')}-${Date.now()}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ada.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'm.text', body }),
    });
    expect(res.status).toBe(200);
    return String(((await res.json()) as { event_id: string }).event_id);
  }
  async function redacted(eventId: string): Promise<boolean> {
    const res = await fetch(`${ada.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`, {
      headers: { authorization: `Bearer ${ada.accessToken}` },
    });
    return Boolean(((await res.json()) as { unsigned?: { redacted_because?: unknown } }).unsigned?.redacted_because);
  }

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, { customers: { ada: { displayName: 'Ada' } }, admins: { alex: 'Alex Admin' } });
    ada = (await s.api('POST', '/v1/me/matrix-session', n.customer('ada'))).body;
    roomId = (await s.api('POST', '/v1/chats/support', n.customer('ada'))).body.matrixRoomId;
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('a message sent after chats were turned off is removed before anyone sees it', async () => {
    // Before: a support message is indexed and notifies the administrator (the positive control).
    const before = await send('before the switch');
    await eventually('the first message to be indexed and notified', async () =>
      (await IndexedMessageModel.exists({ _id: before })) !== null && (await AdminNotificationModel.exists({ messageId: before })) !== null,
    );
    // The workers stop: the fan-out that would make the room read-only stays queued.
    await s.all.worker.stop();
    const off = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('alex'), { chatsEnabled: false });
    expect(off.status).toBe(200);
    const after = await send('while chats are off');
    await eventually('the message to be removed', () => redacted(after), 20000);
    expect(await IndexedMessageModel.exists({ _id: after })).toBeNull();
    expect(await AdminNotificationModel.exists({ messageId: after })).toBeNull();
    // The earlier message, sent while chats were on, stands.
    expect(await redacted(before)).toBe(false);
  });
});
