import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServices, uniqueId, eventually, type TestServices } from '../support/harness';
import { CustomerModel, LocationModel, NetworkModel, customerDocId } from '../../store';
import { CommunitySpaces } from '../../appservice/domain/communitySpaces';
import type { MatrixApi } from '../../appservice/matrix/matrixApi';
import { createRootLogger } from '../../runtime';

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

  type MatrixClient = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

  async function session(token: string): Promise<MatrixClient> {
    const res = await s.api('POST', '/v1/me/matrix-session', token);
    expect(res.status).toBe(200);
    const { homeserverUrl, accessToken } = res.body as { homeserverUrl: string; accessToken: string };
    return async <T>(method: string, path: string, body?: unknown) => {
      const r = await fetch(homeserverUrl + path, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as T };
    };
  }

  const userId = (id: string, kind: 'customer' | 'admin' = 'customer') =>
    s.all.appservice.services.virtualUsers.userId({ kind, networkId: net, id });

  /** What a Matrix client sees when it is not in a space: Synapse's refusal, not an empty list. */
  const NOT_A_MEMBER = 'not a member';

  /** The joined members of a space as a Matrix client sees them; any answer but these two fails the test. */
  async function membersSeenBy(client: MatrixClient, space: string): Promise<string[] | typeof NOT_A_MEMBER> {
    const res = await client<{ joined?: Record<string, unknown>; errcode?: string; error?: string }>(
      'GET',
      `/_matrix/client/v3/rooms/${encodeURIComponent(space)}/joined_members`,
    );
    if (res.status === 403 && res.body.errcode === 'M_FORBIDDEN') return NOT_A_MEMBER;
    if (res.status !== 200 || !res.body.joined) throw new Error(`joined_members of ${space} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return Object.keys(res.body.joined).sort();
  }

  /** Synapse's user directory as the client searches it; an error fails the test (it is never "nobody found"). */
  async function directorySearch(client: MatrixClient, term: string): Promise<string[]> {
    const res = await client<{ results?: Array<{ user_id: string }> }>('POST', '/_matrix/client/v3/user_directory/search', { search_term: term, limit: 50 });
    if (res.status !== 200 || !Array.isArray(res.body.results)) throw new Error(`user directory search answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.results.map((r) => r.user_id).sort();
  }

  /** A user outside the appservice's namespace (shared-secret registration) in a public room of their own. */
  async function ordinaryUserInPublicRoom(displayname: string): Promise<string> {
    const base = s.config.synapse.url;
    const secret = readFileSync(join(process.env.TEST_DATA_DIR!, 'synapse', 'registration_shared_secret'), 'utf8').trim();
    const username = uniqueId('probe').toLowerCase();
    const password = `pw-${username}`;
    const { nonce } = (await (await fetch(`${base}/_synapse/admin/v1/register`)).json()) as { nonce: string };
    const mac = createHmac('sha1', secret).update(`${nonce}\0${username}\0${password}\0notadmin`).digest('hex');
    const registered = await fetch(`${base}/_synapse/admin/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, username, password, displayname, admin: false, mac }),
    });
    const user = (await registered.json()) as { user_id: string; access_token: string };
    expect(registered.status).toBe(200);
    const room = await fetch(`${base}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ preset: 'public_chat', name: `${displayname}'s room` }),
    });
    expect(room.status).toBe(200);
    return user.user_id;
  }

  /** Polls until `probe` gives `expected`; on timeout fails with the last value seen. */
  async function until<T>(what: string, probe: () => Promise<T>, expected: T, timeoutMs = 60000): Promise<void> {
    let last: T | undefined;
    await eventually(what, async () => JSON.stringify((last = await probe())) === JSON.stringify(expected), timeoutMs).catch(() => {
      throw new Error(`timed out waiting for ${what}: expected ${JSON.stringify(expected)}, last seen ${JSON.stringify(last)}`);
    });
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

    // The user directory never finds a customer the Community page hides. The positive control:
    // the same search finds an ordinary user of the server (in a public room), so an empty answer
    // means "nobody", not a directory that is off or a search that failed. Synapse leaves users of
    // an appservice's namespace out of its directory altogether, listed customers too ("bob person"
    // is not found either): Matrix clients find people through the spaces' member lists above.
    const probe = await ordinaryUserInPublicRoom('Probe Person');
    await until('the user directory to find the ordinary user', () => directorySearch(alice, 'person'), [probe], 20000);
    expect(await directorySearch(alice, 'probe')).toEqual([probe]);
    for (const term of ['carol', 'dave']) {
      expect({ term, found: await directorySearch(alice, term) }).toEqual({ term, found: [] });
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
    expect(await membersSeenBy(alice, spaces.harbour)).toBe(NOT_A_MEMBER);

    // administrators: no customer in any space; the administrator still in every one of them.
    expect((await s.api('PATCH', `/v1/networks/${net}/settings`, admin, { communityVisibility: 'administrators' })).status).toBe(200);
    const botAndErin = [bot, userId('erin', 'admin')].sort();
    await until(
      'no customer placed',
      async () => Promise.all([spaces.network, spaces.downtown, spaces.harbour].map((space) => membersSeenBy(erin, space))),
      [botAndErin, botAndErin, botAndErin],
    );
    expect(await membersSeenBy(alice, spaces.network)).toBe(NOT_A_MEMBER);
    expect(await membersSeenBy(alice, spaces.downtown)).toBe(NOT_A_MEMBER);
  });
  test('a placement that read older rules cannot undo a newer one: one placement of a person at a time', async () => {
    // Seen in CI: a customer's own provisioning job read "network_members", a visibility change's
    // re-placement ran and found nothing to undo, then the first job's invite landed and the
    // customer stayed listed in the network space for good.
    const race = uniqueId('race');
    const service = s.token('service', 'host', race);
    await s.api('PUT', `/v1/networks/${race}`, service, { name: 'Race Co', communityVisibility: 'location_members' });
    await s.api('PUT', `/v1/networks/${race}/locations/downtown`, service, { name: 'Downtown' });
    await s.api('PUT', `/v1/networks/${race}/customers/gus`, service, { kind: 'member', displayName: 'Gus', locationIds: ['downtown'], status: 'active' });
    const core = s.all.appservice.services;
    const gus = core.virtualUsers.userId({ kind: 'customer', networkId: race, id: 'gus' });
    const membership = async (space: string) => (await core.matrix.getState<{ membership?: string }>(space, 'm.room.member', gus).catch(() => null))?.membership;
    const spaces = await eventually('the spaces and Gus placed in Downtown', async () => {
      const network = await NetworkModel.findById(race).lean();
      const downtown = (await LocationModel.findOne({ networkId: race, locationId: 'downtown' }).lean())?.spaceRoomId;
      const provisioned = (await CustomerModel.findById(customerDocId(race, 'gus')).lean())?.provisionedVersion;
      return network?.spaceRoomId && downtown && provisioned && (await membership(downtown)) === 'join' ? { network: network.spaceRoomId, downtown } : null;
    }, 30000);
    expect(await membership(spaces.network)).not.toBe('join');

    // The stale placement: it reads "network_members", then its invite waits at a gate.
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    let invitesAtGate = 0;
    const gatedMatrix = Object.create(core.matrix) as MatrixApi;
    gatedMatrix.invite = async (...args: Parameters<MatrixApi['invite']>) => {
      invitesAtGate++;
      await gate;
      return core.matrix.invite(...args);
    };
    const stale = new CommunitySpaces(gatedMatrix, s.config.matrixDomain, createRootLogger('silent', 'test'), core.registration.asToken, core.leases);
    await NetworkModel.updateOne({ _id: race }, { $set: { communityVisibility: 'network_members' } });
    const first = stale.placeCustomer(race, 'gus', gus);
    await eventually('the stale placement to reach its invite', async () => invitesAtGate > 0);

    // The rules change back; the newer placement starts while the stale one is still under way.
    await NetworkModel.updateOne({ _id: race }, { $set: { communityVisibility: 'location_members' } });
    const second = core.spaces.placeCustomer(race, 'gus', gus);
    // Long enough for the newer placement to finish if it did not wait for the stale one.
    await Promise.race([second, new Promise((r) => setTimeout(r, 1500))]);
    openGate();
    await Promise.all([first, second]);

    // The newer rules hold: Gus is in his location's space and not listed in the network space.
    expect({ network: await membership(spaces.network), downtown: await membership(spaces.downtown) }).toEqual({ network: 'leave', downtown: 'join' });
  });
});
