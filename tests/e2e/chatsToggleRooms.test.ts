import * as sdk from 'matrix-js-sdk';
import { forEachLimit } from '../../provisioning/jobs/boundedConcurrency';
import { startServices, uniqueId, type TestServices } from '../support/harness';
import { customerRows, provisioningEnv, waitForJob } from '../support/provisioningHelpers';
import { SavedPowerLevelsModel } from '../../store';

const ROOMS = 200;

/**
 * Rule 1 on the Matrix side, at network scale: the chats toggle makes all 200 conversation rooms of
 * a network read-only for Matrix clients, and turning chats back on restores every room's power
 * levels exactly.
 */
describe('chats toggle across every room of a network', () => {
  let s: TestServices;
  let client: sdk.MatrixClient | undefined;

  beforeAll(async () => {
    s = await startServices(provisioningEnv());
  });
  afterAll(async () => {
    client?.stopClient();
    await s?.stop();
  });

  test('toggle off: all 200 rooms read-only for Matrix clients; toggle on: every power level back', async () => {
    const net = uniqueId('tgl');
    const service = s.token('service', 'host-platform', net);
    const operator = s.token('operator', 'ops');
    const matrix = s.all.appservice.services.matrix;
    expect((await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Toggle Towers' })).status).toBe(200);
    const imported = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: customerRows(ROOMS) });
    expect((await waitForJob(s.baseUrl, service, imported.body.jobId)).state).toBe('completed');

    // One support conversation (and room) per customer.
    const conversations = s.all.appservice.services.conversations;
    const roomOf = new Map<string, string>();
    await forEachLimit(customerRows(ROOMS), 16, async (row) => {
      const chat = await conversations.openSupport(net, String(row.customerId), { kind: 'admin', networkId: net, id: 'a1' });
      roomOf.set(String(row.customerId), chat.roomId!);
    });
    const rooms = [...roomOf.values()];
    expect(new Set(rooms).size).toBe(ROOMS);
    const before = new Map<string, unknown>();
    await forEachLimit(rooms, 20, async (roomId) => {
      before.set(roomId, await matrix.getState(roomId, 'm.room.power_levels'));
    });

    // Customer c0 on a Matrix client of their own.
    const session = await s.api('POST', '/v1/me/matrix-session', s.token('customer', 'c0', net));
    expect(session.status).toBe(200);
    client = sdk.createClient({
      baseUrl: session.body.homeserverUrl,
      accessToken: session.body.accessToken,
      userId: session.body.userId,
      deviceId: session.body.deviceId,
    });
    await client.startClient({ initialSyncLimit: 5 });
    const c0Room = roomOf.get('c0')!;
    await client.sendTextMessage(c0Room, 'before the toggle');

    const started = Date.now();
    const off = await s.api('PUT', `/v1/ops/networks/${net}/chats`, operator, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ chatsEnabled: false, jobId: expect.any(String) });
    // Asking again for the same state queues nothing new.
    expect((await s.api('PUT', `/v1/ops/networks/${net}/chats`, operator, { enabled: false })).body.jobId).toBe(off.body.jobId);
    const offJob = await waitForJob(s.baseUrl, operator, off.body.jobId);
    console.log(`toggle off applied to ${ROOMS} rooms in ${Date.now() - started} ms`);
    expect(offJob).toMatchObject({ state: 'completed', progress: 100, result: { chatsEnabled: false, rooms: ROOMS, changed: ROOMS } });

    await forEachLimit(rooms, 20, async (roomId) => {
      const pl = (await matrix.getState(roomId, 'm.room.power_levels')) as Record<string, any>;
      // Participants have level 0: nothing, not even a reaction or an unsend, is below the bar.
      expect(pl.events_default).toBeGreaterThan(0);
      expect(Object.values(pl.events).every((level) => (level as number) > 0)).toBe(true);
    });
    expect(await SavedPowerLevelsModel.countDocuments({ networkId: net })).toBe(ROOMS);
    await expect(client.sendTextMessage(c0Room, 'during the toggle')).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });

    const on = await s.api('PUT', `/v1/ops/networks/${net}/chats`, operator, { enabled: true });
    expect(on.body.jobId).not.toBe(off.body.jobId);
    expect(await waitForJob(s.baseUrl, operator, on.body.jobId)).toMatchObject({
      state: 'completed',
      result: { chatsEnabled: true, rooms: ROOMS, changed: ROOMS },
    });
    await forEachLimit(rooms, 20, async (roomId) => {
      expect(await matrix.getState(roomId, 'm.room.power_levels')).toEqual(before.get(roomId));
    });
    expect(await SavedPowerLevelsModel.countDocuments({ networkId: net })).toBe(0);
    await expect(client.sendTextMessage(c0Room, 'after the toggle')).resolves.toMatchObject({ event_id: expect.any(String) });
    // Room setup dominates; on a busy 2-core machine it takes a few minutes.
  }, 170000);

  test('a repeated toggle job changes no room a second time', async () => {
    const net = uniqueId('tgl');
    const service = s.token('service', 'host-platform', net);
    const operator = s.token('operator', 'ops');
    expect((await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Repeat Rooms' })).status).toBe(200);
    await waitForJob(s.baseUrl, service, (await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: customerRows(3) })).body.jobId);
    const conversations = s.all.appservice.services.conversations;
    for (const id of ['c0', 'c1', 'c2']) await conversations.openSupport(net, id, { kind: 'customer', networkId: net, id });

    const off = await s.api('PUT', `/v1/ops/networks/${net}/chats`, operator, { enabled: false });
    expect((await waitForJob(s.baseUrl, operator, off.body.jobId)).result).toMatchObject({ rooms: 3, changed: 3 });
    // The same job run again (a retry after a crash, or a worker that lost its lock) converges to
    // the same state and sends nothing.
    const queue = s.all.portalApi.deps.queue;
    await (await queue.getJob(off.body.jobId))!.remove();
    const rerun = await queue.chatsToggle(net, Number(off.body.jobId.split('.v').pop()), false);
    expect(rerun).toBe(off.body.jobId);
    expect((await waitForJob(s.baseUrl, operator, rerun)).result).toEqual({ chatsEnabled: false, rooms: 3, changed: 0 });
  });
});
