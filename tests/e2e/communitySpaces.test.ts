import { startServices, uniqueId, eventually, type TestServices } from '../support/harness';
import { LocationModel, NetworkModel } from '../../store';

/**
 * Networks and locations as spaces, seen from Matrix clients of each role: a space's member list
 * and Synapse's user directory reveal no more than the Community page would.
 */
describe('community spaces', () => {
  let s: TestServices;
  const net = uniqueId('spaces');

  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function session(token: string) {
    const res = await s.api('POST', '/v1/me/matrix-session', token);
    expect(res.status).toBe(200);
    const { homeserverUrl, accessToken } = res.body as { homeserverUrl: string; accessToken: string };
    return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const r = await fetch(homeserverUrl + path, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await r.json()) as T;
    };
  }

  const userId = (id: string, kind: 'customer' | 'admin' = 'customer') =>
    s.all.appservice.services.virtualUsers.userId({ kind, networkId: net, id });

  /** The joined members of a space as a Matrix client sees them (empty when it cannot see it). */
  async function membersSeenBy(client: Awaited<ReturnType<typeof session>>, space: string): Promise<string[]> {
    const res = await client<{ joined?: Record<string, unknown> }>('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(space)}/joined_members`);
    return Object.keys(res.joined ?? {}).sort();
  }

  async function spacesOf(): Promise<{ network: string; downtown: string; harbour: string }> {
    return eventually('the spaces to exist', async () => {
      const network = await NetworkModel.findById(net).lean();
      const locations = await LocationModel.find({ networkId: net }).lean();
      const by = Object.fromEntries(locations.map((l) => [l.locationId, l.spaceRoomId]));
      return network?.spaceRoomId && by.downtown && by.harbour ? { network: network.spaceRoomId, downtown: by.downtown, harbour: by.harbour } : null;
    });
  }

  test('placement follows community visibility and privacy, for every role', async () => {
    const service = s.token('service', 'host', net);
    await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Spaces Co', communityVisibility: 'network_members' });
    await s.api('PUT', `/v1/networks/${net}/locations/downtown`, service, { name: 'Downtown' });
    await s.api('PUT', `/v1/networks/${net}/locations/harbour`, service, { name: 'Harbour' });
    const customers: Array<[string, 'member' | 'nonmember', string[], boolean]> = [
      ['alice', 'member', ['downtown'], false],
      ['bob', 'member', ['downtown'], false],
      ['hana', 'member', ['harbour'], false],
      ['carol', 'member', ['downtown'], true],
      ['dave', 'nonmember', ['downtown'], false],
    ];
    for (const [id, kind, locationIds, hide] of customers) {
      await s.api('PUT', `/v1/networks/${net}/customers/${id}`, service, { kind, displayName: `${id} person`, locationIds, hideNameOnBookings: hide, status: 'active' });
    }
    await s.api('PUT', `/v1/networks/${net}/admins/erin`, service, { displayName: 'Erin' });
    const spaces = await spacesOf();
    const alice = await session(s.token('customer', 'alice', net));
    const erin = await session(s.token('admin', 'erin', net));
    const bot = `@cw_bot:${s.config.matrixDomain}`;

    // network_members: listed members share the network space; carol (hidden) and dave (non-member) never appear.
    const everyoneListed = [bot, userId('alice'), userId('bob'), userId('hana'), userId('erin', 'admin')].sort();
    expect(await eventually('network space placement', async () => {
      const seen = await membersSeenBy(alice, spaces.network);
      return JSON.stringify(seen) === JSON.stringify(everyoneListed) ? seen : null;
    }, 60000)).toEqual(everyoneListed);
    expect(await membersSeenBy(erin, spaces.network)).toEqual(everyoneListed);

    // The user directory never finds a customer the Community page hides.
    for (const term of ['carol', 'dave']) {
      const found = await alice<{ results: Array<{ user_id: string }> }>('POST', '/_matrix/client/v3/user_directory/search', { search_term: term, limit: 10 });
      expect(found.results.map((r) => r.user_id)).toEqual([]);
    }

    // location_members: the network space lists no customers; location spaces list their own members.
    const admin = s.token('admin', 'erin', net);
    expect((await s.api('PATCH', `/v1/networks/${net}/settings`, admin, { communityVisibility: 'location_members' })).status).toBe(200);
    const downtownListed = [bot, userId('alice'), userId('bob'), userId('erin', 'admin')].sort();
    expect(await eventually('location placement', async () => {
      const seen = await membersSeenBy(alice, spaces.downtown);
      const network = await membersSeenBy(erin, spaces.network);
      return JSON.stringify(seen) === JSON.stringify(downtownListed) && JSON.stringify(network) === JSON.stringify([bot, userId('erin', 'admin')].sort()) ? seen : null;
    }, 60000)).toEqual(downtownListed);
    expect(await membersSeenBy(alice, spaces.harbour)).toEqual([]);

    // administrators: no customer in any space.
    expect((await s.api('PATCH', `/v1/networks/${net}/settings`, admin, { communityVisibility: 'administrators' })).status).toBe(200);
    await eventually('no customer placed', async () => {
      const all = [...(await membersSeenBy(erin, spaces.network)), ...(await membersSeenBy(erin, spaces.downtown)), ...(await membersSeenBy(erin, spaces.harbour))];
      return all.every((m) => m === bot || m === userId('erin', 'admin')) ? true : null;
    }, 60000);
  });
});
