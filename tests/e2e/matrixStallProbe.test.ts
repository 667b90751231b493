import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';
import { matrixRequest } from '../support/matrixRequest';

const ROOMS = 5;
const PENDING_PER_ROOM = 4;

/**
 * Media reserved on Synapse and never uploaded makes every check of it wait for the check's
 * timeout. With 20 such references in one network, another network's messages must not wait: the
 * stall probe of issue 11 (its chaos scenario runs the same probe).
 */
describe('one network\'s stuck media checks stall no other network', () => {
  let s: TestServices;
  let a: NetworkFixture;
  let b: NetworkFixture;

  beforeAll(async () => {
    // The production default check timeout (5 s): twenty checks in a row would take 100 s.
    s = await startServices({ ATTACHMENT_CHECK_TIMEOUT_MS: '5000' });
    const customers = Object.fromEntries(Array.from({ length: ROOMS + 1 }, (_, i) => [`c${i}`, { displayName: `C ${i}` }]));
    a = await createNetwork(s, { customers });
    b = await createNetwork(s, { customers: { bea: { displayName: 'Bea' } }, admins: { 'admin-b': 'Admin B' } });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("with 20 never-uploaded files referenced in network A, network B's message reaches its administrators within 2 s", async () => {
    const attacker = (await s.api('POST', '/v1/me/matrix-session', a.customer('c0'))).body;
    const matrix = async (method: string, path: string, body?: unknown) => (await matrixRequest<Record<string, any>>(attacker, method, path, body)).body!;
    const rooms: string[] = [];
    for (let i = 1; i <= ROOMS; i++) rooms.push((await s.api('POST', '/v1/chats', a.customer('c0'), { userId: `c${i}` })).body.matrixRoomId);
    const stuck: string[] = [];
    for (const room of rooms) {
      for (let j = 0; j < PENDING_PER_ROOM; j++) {
        const reserved = String((await matrix('POST', '/_matrix/media/v1/create')).content_uri);
        const sent = await matrix('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/stall-${j}`, { msgtype: 'm.file', body: 'later.pdf', url: reserved });
        stuck.push(String(sent.event_id));
      }
    }
    expect(stuck.every((id) => id.startsWith('$'))).toBe(true);
    // Let the stuck events reach the appservice first: B's message comes behind them.
    await new Promise((r) => setTimeout(r, 500));

    const chat = (await s.api('POST', '/v1/chats/support', b.customer('bea'))).body;
    const started = Date.now();
    const sent = await s.api('POST', `/v1/chats/${chat.id}/messages`, b.customer('bea'), { txnId: 'probe', body: 'is anyone there?' });
    expect(sent.status).toBe(201);
    await eventually('the administrators notified of Bea\'s message', async () => {
      const res = await s.api('GET', `/v1/networks/${b.net}/notifications`, b.admin('admin-b'));
      return res.body.notifications?.some((x: { messageId?: string }) => x.messageId === sent.body.id);
    }, 10000);
    const tookMs = Date.now() - started;
    expect(tookMs).toBeLessThan(2000);
  });
});
