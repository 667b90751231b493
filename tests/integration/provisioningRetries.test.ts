import { encodeIdPart } from '../../appservice/matrix/virtualUsers';
import { startServices, uniqueId, type TestServices } from '../support/harness';
import { customerRows, provisioningEnv, waitForJob } from '../support/provisioningHelpers';
import { startSynapseFaultProxy, type SynapseFaultProxy } from '../support/synapseFaultProxy';

const REGISTER = '/_matrix/client/v3/register';

/**
 * Provisioning jobs against a real Synapse behind a local fault-injecting proxy: repeated syncs run
 * once, Synapse's 429 with retry_after_ms is waited out, and refusals are kept with their reasons
 * until an operator retries them.
 */
describe('provisioning jobs: idempotency, rate limits, failures', () => {
  let proxy: SynapseFaultProxy;
  let s: TestServices;

  beforeAll(async () => {
    proxy = await startSynapseFaultProxy(process.env.SYNAPSE_URL!);
    s = await startServices(provisioningEnv({ SYNAPSE_URL: proxy.url }));
  });
  afterAll(async () => {
    await s?.stop();
    await proxy?.stop();
  });
  afterEach(() => proxy.setRule(null));

  async function network() {
    const net = uniqueId('prv');
    const service = s.token('service', 'host-platform', net);
    expect((await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Retry Rooms' })).status).toBe(200);
    return { net, service };
  }
  const customer = { kind: 'member', displayName: 'Rita Retry', locationIds: [], hideNameOnBookings: false, status: 'active' };

  test('the same customer sync twice is one job with one effect', async () => {
    const { net, service } = await network();
    const first = await s.api('PUT', `/v1/networks/${net}/customers/rita`, service, customer);
    const second = await s.api('PUT', `/v1/networks/${net}/customers/rita`, service, customer);
    expect(second.body.provisioningJobId).toBe(first.body.provisioningJobId);
    const job = await waitForJob(s.baseUrl, service, first.body.provisioningJobId);
    expect(job).toMatchObject({ state: 'completed', attemptsMade: 1 });
    const userId = `@cw_c_${encodeIdPart(net)}_rita:${s.config.matrixDomain}`;
    const displayNameWrites = proxy.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(`/_matrix/client/v3/profile/${encodeURIComponent(userId)}/displayname`));
    expect(displayNameWrites).toHaveLength(1);
  });

  test("Synapse's 429 with retry_after_ms: the job waits that long, then succeeds without spending an attempt", async () => {
    const { net, service } = await network();
    let limited: number | null = null;
    proxy.setRule(({ method, path }) => {
      if (method !== 'POST' || path !== REGISTER || limited !== null) return null;
      limited = Date.now();
      return { status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'Too Many Requests', retry_after_ms: 6000 } };
    });
    const res = await s.api('PUT', `/v1/networks/${net}/customers/rita`, service, customer);
    const job = await waitForJob(s.baseUrl, service, res.body.provisioningJobId, { timeoutMs: 30000 });
    expect(job.state).toBe('completed');
    expect(limited).not.toBeNull();
    const registersAfter = proxy.requests.filter((r) => r.method === 'POST' && r.path.startsWith(REGISTER) && r.at > limited! && !r.injected);
    expect(registersAfter.length).toBeGreaterThanOrEqual(1);
    expect(registersAfter[0]!.at - limited!).toBeGreaterThanOrEqual(5900);
    expect(job.attemptsMade).toBe(1);
    const userId = `@cw_c_${encodeIdPart(net)}_rita:${s.config.matrixDomain}`;
    expect(await s.all.appservice.services.matrix.getProfile(userId)).toEqual({ displayname: 'Rita Retry' });
  });

  test('a refusal fails the job at once with its reason, is listed for operators, and succeeds when retried', async () => {
    const { net, service } = await network();
    const operator = s.token('operator', 'ops');
    proxy.setRule(({ method, path }) =>
      method === 'POST' && path === REGISTER ? { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'Registration is closed for maintenance' } } : null,
    );
    const res = await s.api('PUT', `/v1/networks/${net}/customers/rita`, service, customer);
    const failed = await waitForJob(s.baseUrl, service, res.body.provisioningJobId);
    expect(failed).toMatchObject({
      state: 'failed',
      attemptsMade: 1,
      failedReason: 'Synapse refused: M_FORBIDDEN (403): Registration is closed for maintenance',
    });
    const queues = await s.api('GET', '/v1/ops/queues', operator);
    const provisioning = queues.body.queues.find((q: { name: string }) => q.name === 'provisioning');
    expect(provisioning.counts.failed).toBeGreaterThanOrEqual(1);
    expect(provisioning.failed).toContainEqual(
      expect.objectContaining({ id: res.body.provisioningJobId, networkId: net, failedReason: failed.failedReason }),
    );

    proxy.setRule(null);
    const retried = await s.api('POST', '/v1/ops/queues/provisioning/retry', operator, { jobIds: [res.body.provisioningJobId] });
    expect(retried.body).toEqual({ retried: 1 });
    expect(await waitForJob(s.baseUrl, service, res.body.provisioningJobId)).toMatchObject({ state: 'completed' });
  });

  test('an import row Synapse refuses is reported with its reason while the others are provisioned', async () => {
    const { net, service } = await network();
    const refused = encodeURIComponent(`@cw_c_${encodeIdPart(net)}_c7:${s.config.matrixDomain}`);
    proxy.setRule(({ method, path }) =>
      method === 'PUT' && path === `/_matrix/client/v3/profile/${refused}/displayname`
        ? { status: 400, body: { errcode: 'M_INVALID_PARAM', error: 'Display name contains a word on the deny list' } }
        : null,
    );
    const res = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: customerRows(20) });
    const job = await waitForJob(s.baseUrl, service, res.body.jobId);
    expect(job.state).toBe('completed');
    expect(job.result).toMatchObject({ provisioned: 19, failed: 1 });
    expect(job.failures).toEqual([
      { row: 7, customerId: 'c7', reason: 'Synapse refused: M_INVALID_PARAM (400): Display name contains a word on the deny list' },
    ]);
  });

  test('operators only', async () => {
    expect((await s.api('GET', '/v1/ops/queues', s.token('service', 'x', 'n'))).status).toBe(403);
    expect((await s.api('POST', '/v1/ops/queues/provisioning/retry', s.token('admin', 'x', 'n'), {})).status).toBe(403);
    expect((await s.api('POST', '/v1/ops/queues/nope/retry', s.token('operator', 'ops'), {})).status).toBe(404);
  });
});
