import { startServices, type TestServices } from '../support/harness';
import { provisioningEnv, waitForJob } from '../support/provisioningHelpers';
import { createNetwork } from './networkFixture';

/**
 * Administrators as a team (rule 2): an administrator added later joins every existing support
 * room of the network; a removed one is taken out of all of them and loses access in the portal.
 */
describe("administrators' membership of support rooms", () => {
  let s: TestServices;

  beforeAll(async () => {
    s = await startServices(provisioningEnv());
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('an added administrator joins every support room; a removed one is kicked from all', async () => {
    const n = await createNetwork(s, {
      customers: { c1: { displayName: 'Cy One' }, c2: { displayName: 'Cy Two' }, c3: { displayName: 'Cy Three' } },
      admins: { ada: 'Ada Admin' },
    });
    const chats: Array<{ id: string; matrixRoomId: string }> = [];
    for (const cid of ['c1', 'c2', 'c3']) {
      const chat = await s.api('POST', `/v1/chats/support`, n.customer(cid));
      expect(chat.status).toBe(200);
      chats.push(chat.body);
    }
    const matrix = s.all.appservice.services.matrix;
    const benId = s.all.appservice.services.virtualUsers.userId({ kind: 'admin', networkId: n.net, id: 'ben' });
    const membershipOfBen = () =>
      Promise.all(chats.map(async (c) => (await matrix.getState<{ membership: string }>(c.matrixRoomId, 'm.room.member', benId))?.membership ?? null));

    const added = await s.api('PUT', `/v1/networks/${n.net}/admins/ben`, n.service, { displayName: 'Ben Boss' });
    expect(await waitForJob(s.baseUrl, n.service, added.body.provisioningJobId)).toMatchObject({
      state: 'completed',
      result: { status: 'active', supportRooms: { rooms: 3, changed: 3 } },
    });
    expect(await membershipOfBen()).toEqual(['join', 'join', 'join']);
    expect((await s.api('GET', `/v1/chats/${chats[0]!.id}/messages`, n.admin('ben'))).status).toBe(200);

    const removed = await s.api('DELETE', `/v1/networks/${n.net}/admins/ben`, n.service);
    expect(removed.status).toBe(202);
    // Removing twice is one job.
    expect((await s.api('DELETE', `/v1/networks/${n.net}/admins/ben`, n.service)).body.jobId).toBe(removed.body.jobId);
    expect(await waitForJob(s.baseUrl, n.service, removed.body.jobId)).toMatchObject({
      state: 'completed',
      result: { status: 'removed', supportRooms: { rooms: 3, changed: 3 } },
    });
    expect(await membershipOfBen()).toEqual(['leave', 'leave', 'leave']);
    expect((await s.api('GET', `/v1/chats/${chats[0]!.id}/messages`, n.admin('ben'))).status).toBe(403);

    // Back on the team: joined again everywhere.
    const back = await s.api('PUT', `/v1/networks/${n.net}/admins/ben`, n.service, { displayName: 'Ben Boss' });
    await waitForJob(s.baseUrl, n.service, back.body.provisioningJobId);
    expect(await membershipOfBen()).toEqual(['join', 'join', 'join']);
  });

  test('removing an unknown administrator is 404', async () => {
    const n = await createNetwork(s);
    expect((await s.api('DELETE', `/v1/networks/${n.net}/admins/nobody`, n.service)).status).toBe(404);
  });
});
