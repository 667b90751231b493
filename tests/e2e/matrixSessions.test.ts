import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * A Matrix session is a second door into the same account: bounded in time, one per person,
 * revocable, and closed with the portal's door when the host platform deactivates the person.
 */
describe('matrix sessions: bounded, one per person, closed on deactivation', () => {
  let s: TestServices;
  let n: NetworkFixture;

  async function whoami(session: { homeserverUrl: string; accessToken: string }) {
    const res = await fetch(`${session.homeserverUrl}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    return { status: res.status, errcode: ((await res.json()) as { errcode?: string }).errcode };
  }

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      locations: ['loc-1'],
      customers: { ada: { displayName: 'Ada', locationIds: ['loc-1'] }, bo: { displayName: 'Bo' } },
      admins: { 'admin-1': 'Admin One' },
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('a new session replaces the previous one, and says when it ends', async () => {
    const first = await s.api('POST', '/v1/me/matrix-session', n.customer('bo'));
    const second = await s.api('POST', '/v1/me/matrix-session', n.customer('bo'));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.deviceId).toBe(first.body.deviceId);
    expect(second.body.expiresInMs).toBeGreaterThan(23 * 3600 * 1000);
    expect(second.body.expiresInMs).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect(await whoami(first.body)).toEqual({ status: 401, errcode: 'M_UNKNOWN_TOKEN' });
    expect((await whoami(second.body)).status).toBe(200);
  });

  test('DELETE /v1/me/matrix-session logs the Matrix client out', async () => {
    const session = await s.api('POST', '/v1/me/matrix-session', n.admin('admin-1'));
    expect((await whoami(session.body)).status).toBe(200);
    expect((await s.api('DELETE', '/v1/me/matrix-session', n.admin('admin-1'))).status).toBe(204);
    expect(await whoami(session.body)).toEqual({ status: 401, errcode: 'M_UNKNOWN_TOKEN' });
    // Logging out twice is not an error.
    expect((await s.api('DELETE', '/v1/me/matrix-session', n.admin('admin-1'))).status).toBe(204);
  });

  test('deactivation by host sync closes the Matrix door and every portal route; reactivation opens both', async () => {
    const session = await s.api('POST', '/v1/me/matrix-session', n.customer('ada'));
    const networkSpace = await eventually('Ada in the network space', async () => {
      const rooms = await fetch(`${session.body.homeserverUrl}/_matrix/client/v3/joined_rooms`, { headers: { authorization: `Bearer ${session.body.accessToken}` } });
      const joined = ((await rooms.json()) as { joined_rooms: string[] }).joined_rooms;
      return joined.length > 0 && joined;
    });
    const matrix = s.all.appservice.services.matrix;
    const membership = async (room: string) => (await matrix.getState<{ membership?: string }>(room, 'm.room.member', session.body.userId).catch(() => null))?.membership;
    const spaces = (await Promise.all(networkSpace.map(async (room) => ((await membership(room)) === 'join' ? room : null)))).filter(Boolean) as string[];
    expect(spaces.length).toBeGreaterThan(0);

    const off = await s.api('PUT', `/v1/networks/${n.net}/customers/ada`, n.service, { kind: 'member', displayName: 'Ada', locationIds: ['loc-1'], status: 'deactivated' });
    expect(off.status).toBe(200);
    // The token already handed out dies within seconds, and the account cannot log in again.
    await eventually('the Matrix token refused', async () => (await whoami(session.body)).status === 401, 15000);
    expect((await s.api('POST', '/v1/me/matrix-session', n.customer('ada'))).status).toBe(403);
    // Every portal route refuses the portal token, with a code the UI can explain.
    const features = await s.api('GET', '/v1/me/features', n.customer('ada'));
    expect({ status: features.status, code: features.body.error?.code }).toEqual({ status: 403, code: 'account_deactivated' });
    // The spaces no longer list them.
    await eventually('Ada out of the spaces', async () => (await Promise.all(spaces.map(membership))).every((m) => m !== 'join'), 15000);

    const on = await s.api('PUT', `/v1/networks/${n.net}/customers/ada`, n.service, { kind: 'member', displayName: 'Ada', locationIds: ['loc-1'], status: 'active' });
    expect(on.status).toBe(200);
    const again = await eventually('a new session after reactivation', async () => {
      const res = await s.api('POST', '/v1/me/matrix-session', n.customer('ada'));
      return res.status === 200 && (await whoami(res.body)).status === 200 && res.body;
    }, 15000);
    expect(again.userId).toBe(session.body.userId);
    expect((await s.api('GET', '/v1/me/features', n.customer('ada'))).status).toBe(200);
    await eventually('Ada back in the spaces', async () => (await Promise.all(spaces.map(membership))).every((m) => m === 'join'), 15000);
  });

  test("a removed administrator's Matrix token stops working", async () => {
    const session = await s.api('POST', '/v1/me/matrix-session', n.admin('admin-1'));
    expect((await whoami(session.body)).status).toBe(200);
    expect((await s.api('DELETE', `/v1/networks/${n.net}/admins/admin-1`, n.service)).status).toBeLessThan(300);
    await eventually('the administrator\'s Matrix token refused', async () => (await whoami(session.body)).status === 401, 15000);
    expect((await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('admin-1'))).status).toBe(403);
  });
});
