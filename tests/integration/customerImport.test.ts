import { encodeIdPart } from '../../appservice/matrix/virtualUsers';
import type { SynapseAdminApi } from '../../provisioning/synapseAdminApi';
import { startServices, uniqueId, type TestServices } from '../support/harness';
import { customerRows, provisioningEnv, synapseAdminFor, waitForJob } from '../support/provisioningHelpers';
import { customerDocId, CustomerModel, NetworkModel } from '../../store';

/**
 * Bulk import (POST /v1/networks/:nid/customers:import) against the real Synapse: valid rows become
 * virtual users with their names, invalid rows come back with reasons, oversized requests are
 * refused before anything is queued.
 */
describe('bulk customer import', () => {
  let s: TestServices;
  let admin: SynapseAdminApi;

  beforeAll(async () => {
    s = await startServices(provisioningEnv({ IMPORT_MAX_ROWS: '2000', IMPORT_MAX_BYTES: '262144' }));
    admin = synapseAdminFor(s.config);
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function network(): Promise<{ net: string; service: string }> {
    const net = uniqueId('imp');
    const service = s.token('service', 'host-platform', net);
    expect((await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Import Hub' })).status).toBe(200);
    return { net, service };
  }

  /** The network's customers as Synapse knows them: localpart prefix -> display name. */
  async function synapseCustomers(net: string): Promise<Map<string, string | null>> {
    const users = await admin.listUsers(`cw_c_${encodeIdPart(net)}_`);
    return new Map(users.map((u) => [u.name, u.displayname]));
  }

  test('valid rows are provisioned with their names; each invalid row is reported with its reason', async () => {
    const { net, service } = await network();
    const rows: unknown[] = customerRows(1000);
    rows.push({ customerId: 'no-name', kind: 'member' });
    rows.push({ customerId: 'bad-kind', kind: 'visitor', displayName: 'Vera Visitor' });
    rows.push({ customerId: 'c7', kind: 'member', displayName: 'Second c7' });
    rows.push('not an object');

    const started = Date.now();
    const res = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: rows });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ total: 1004, valid: 1000, invalid: 4 });
    const progress: number[] = [];
    const job = await waitForJob(s.baseUrl, service, res.body.jobId, { onProgress: (j) => progress.push(j.progress) });
    const seconds = (Date.now() - started) / 1000;
    console.log(`imported 1,000 customers in ${seconds.toFixed(1)} s (${Math.round(1000 / seconds)} customers/s)`);

    expect(job.state).toBe('completed');
    expect(job.progress).toBe(100);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(job.result).toEqual({ total: 1004, invalid: 4, provisioned: 1000, unchanged: 0, failed: 0 });
    expect(job.failures).toEqual([
      { row: 1000, customerId: 'no-name', reason: expect.stringMatching(/^displayName: /) },
      { row: 1001, customerId: 'bad-kind', reason: expect.stringMatching(/^kind: /) },
      { row: 1002, customerId: 'c7', reason: 'customerId: duplicate of row 7' },
      { row: 1003, reason: expect.stringMatching(/^row: /) },
    ]);

    const onSynapse = await synapseCustomers(net);
    expect(onSynapse.size).toBe(1000);
    const users = s.all.appservice.services.virtualUsers;
    for (const i of [0, 7, 500, 999]) {
      expect(onSynapse.get(users.userId({ kind: 'customer', networkId: net, id: `c${i}` }))).toBe(`Customer c${i}`);
    }
    expect(await CustomerModel.countDocuments({ networkId: net, provisionedVersion: 1, version: 1 })).toBe(1000);
  });

  test('the same import posted twice is one job, and a changed row is updated on the next import', async () => {
    const { net, service } = await network();
    const rows = customerRows(60);
    const first = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: rows });
    const again = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: rows });
    expect(again.status).toBe(202);
    expect(again.body.jobId).toBe(first.body.jobId);
    expect((await waitForJob(s.baseUrl, service, first.body.jobId)).result).toMatchObject({ provisioned: 60, unchanged: 0 });

    rows[3]!.displayName = 'Renamed Customer';
    const changed = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: rows });
    expect(changed.body.jobId).not.toBe(first.body.jobId);
    expect((await waitForJob(s.baseUrl, service, changed.body.jobId)).result).toMatchObject({ provisioned: 1, unchanged: 59 });
    const userId = s.all.appservice.services.virtualUsers.userId({ kind: 'customer', networkId: net, id: 'c3' });
    expect(await s.all.appservice.services.matrix.getProfile(userId)).toEqual({ displayname: 'Renamed Customer' });
    expect(await CustomerModel.countDocuments({ networkId: net, version: 1 })).toBe(59);
  });

  test('a re-import that changes every row of full batches updates them all (FerretDB deadlocked on one 100-statement update)', async () => {
    const { net, service } = await network();
    const rows = customerRows(200);
    const first = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: rows });
    expect((await waitForJob(s.baseUrl, service, first.body.jobId)).result).toMatchObject({ provisioned: 200, failed: 0 });
    const revisionBefore = (await NetworkModel.findById(net).lean())!.directoryRevision;

    const renamed = rows.map((r) => ({ ...r, displayName: `${r.displayName as string} Renamed` }));
    const second = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: renamed });
    expect((await waitForJob(s.baseUrl, service, second.body.jobId)).result).toMatchObject({ provisioned: 200, unchanged: 0, failed: 0 });
    expect(await CustomerModel.countDocuments({ networkId: net, version: 2, provisionedVersion: 2 })).toBe(200);
    expect((await CustomerModel.findById(customerDocId(net, 'c150')).lean())?.displayName).toBe('Customer c150 Renamed');
    // bulkWrite runs no hook: the import itself moved the directory revision.
    expect((await NetworkModel.findById(net).lean())!.directoryRevision).toBeGreaterThan(revisionBefore);
  });

  test('an oversized import is refused with 413 and nothing is queued', async () => {
    const { net, service } = await network();
    const tooManyRows = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: customerRows(2001) });
    expect(tooManyRows.status).toBe(413);
    expect(tooManyRows.body.error.code).toBe('payload_too_large');
    const longNames = customerRows(1500).map((r) => ({ ...r, displayName: `${r.displayName} ${'x'.repeat(200)}` }));
    const tooManyBytes = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: longNames });
    expect(tooManyBytes.status).toBe(413);
    expect(tooManyBytes.body.error.code).toBe('payload_too_large');

    const jobs = await s.all.portalApi.deps.queue.queue.getJobs(['waiting', 'prioritized', 'active', 'waiting-children', 'completed', 'failed', 'delayed']);
    expect(jobs.filter((j) => j?.data.networkId === net)).toEqual([]);
    expect(await CustomerModel.countDocuments({ networkId: net })).toBe(0);
  });

  test("another network's token never sees the job", async () => {
    const { net, service } = await network();
    const res = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: customerRows(1) });
    const other = s.token('service', 'host-platform', uniqueId('other'));
    expect((await s.api('GET', `/v1/jobs/${res.body.jobId}`, other)).status).toBe(404);
    expect((await s.api('GET', `/v1/jobs/${res.body.jobId}`, s.token('operator', 'ops'))).status).toBe(200);
    await waitForJob(s.baseUrl, service, res.body.jobId);
  });
});
