import { AdminNotificationModel, IndexedMessageModel } from '../../store';
import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * Rule 1 holds on the Matrix side before the toggle's fan-out reaches a room: with the workers
 * down (the fan-out queued and waiting), a message a Matrix client sends into a conversation of a
 * network whose chats were just turned off is refused by the homeserver (check_event_for_spam,
 * appservice/domain/homeserverRules.ts), never indexed, never notified. (Had the homeserver not
 * been able to ask, it fails open and appservice/domain/matrixChatsOff.ts removes the message.)
 */
describe('chats off: no window for Matrix clients while the fan-out is queued', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let ada: { homeserverUrl: string; userId: string; accessToken: string };
  let roomId: string;

  async function send(body: string, expected = 200): Promise<string> {
    const res = await fetch(`${ada.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${body.replace(/\W/g, '')}-${Date.now()}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ada.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'm.text', body }),
    });
    const json = (await res.json()) as { event_id?: string; errcode?: string; error?: string };
    expect({ status: res.status, errcode: json.errcode }).toEqual(expected === 200 ? { status: 200 } : { status: expected, errcode: 'M_FORBIDDEN' });
    return String(json.event_id ?? json.error);
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

  test('a message sent after chats were turned off is refused before anyone sees it', async () => {
    // Before: a support message is indexed and notifies the administrator (the positive control).
    const before = await send('before the switch');
    await eventually('the first message to be indexed and notified', async () =>
      (await IndexedMessageModel.exists({ _id: before })) !== null && (await AdminNotificationModel.exists({ messageId: before })) !== null,
    );
    // The workers stop: the fan-out that would make the room read-only stays queued.
    await s.all.worker.stop();
    const off = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('alex'), { chatsEnabled: false });
    expect(off.status).toBe(200);
    expect(await send('while chats are off', 403)).toBe('Chats are disabled for this network.');
    expect(await IndexedMessageModel.countDocuments({ roomId })).toBe(1);
    expect(await AdminNotificationModel.countDocuments({ networkId: n.net })).toBe(1);
    // The earlier message, sent while chats were on, stands.
    expect(await redacted(before)).toBe(false);
  });
});
