import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdPart } from '../../appservice/matrix/virtualUsers';
import { startAppservice, type AppserviceHandle } from '../../appservice/start';
import { createRootLogger } from '../../runtime/logger';
import { startPortalApi, type PortalApiHandle } from '../../portal-api/start';
import { startProcess, type ManagedProcess } from '../../scripts/stack/childProcess';
import { startRedis, type RedisHandle } from '../../scripts/stack/redisServer';
import { eventually, startServices, testConfig, uniqueId, callApi } from '../support/harness';
import { mintToken } from '../../portal-api/auth';
import { customerRows, provisioningEnv, synapseAdminFor, waitForJob } from '../support/provisioningHelpers';
import { CustomerModel } from '../../store';

const CUSTOMERS = 1000;
const PROJECT_ROOT = join(__dirname, '..', '..');

/**
 * A 1,000-customer import survives the worker being stopped (SIGTERM), killed (SIGKILL, no chance to clean up) and
 * Redis restarting in the middle: afterwards every customer exists on Synapse exactly once, with
 * their name, and no row is reported failed.
 */

// Slow enough that there is a "middle" to crash in; short locks so a dead worker's batches come back quickly.
const CRASH_ENV = provisioningEnv({
  SYNAPSE_MAX_REQUESTS_PER_SECOND: '250',
  PROVISIONING_LOCK_SECONDS: '4',
  PROVISIONING_STALLED_CHECK_SECONDS: '2',
});

/** Customers of the network provisioned so far, from MongoDB (readable while Redis is down). */
function provisionedIn(net: string): Promise<number> {
  return CustomerModel.countDocuments({ networkId: net, provisionedVersion: 1 });
}

async function expectEveryCustomerOnceOnSynapse(config: ReturnType<typeof testConfig>, net: string): Promise<void> {
  const users = await synapseAdminFor(config).listUsers(`cw_c_${encodeIdPart(net)}_`);
  expect(users).toHaveLength(CUSTOMERS);
  expect(new Set(users.map((u) => u.name)).size).toBe(CUSTOMERS);
  const named = users.filter((u) => u.displayname === `Customer ${u.name.slice(u.name.lastIndexOf('_') + 1, u.name.indexOf(':'))}`);
  expect(named).toHaveLength(CUSTOMERS);
  expect(await CustomerModel.countDocuments({ networkId: net, version: 1, provisionedVersion: 1 })).toBe(CUSTOMERS);
}

describe('import when the worker process stops half-way', () => {
  const config = testConfig(CRASH_ENV);
  const log = createRootLogger('warn', 'test');
  let appservice: AppserviceHandle;
  let portal: PortalApiHandle;
  let worker: ManagedProcess | undefined;
  const logDir = mkdtempSync(join(process.env.TEST_DATA_DIR ?? tmpdir(), 'worker-'));

  /** The real worker process (`bin/server.ts worker`), ready once it says so in its log. */
  async function startWorker(name: string): Promise<ManagedProcess> {
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    // node itself with tsx as a loader (not the tsx CLI, which forks): SIGKILL reaches the worker.
    const proc = startProcess(join(PROJECT_ROOT, 'node_modules', '.bin', 'node'), ['--import', 'tsx', 'bin/server.ts', 'worker'], {
      cwd: PROJECT_ROOT,
      logPath: join(logDir, `${name}.log`),
      env: { ...env, ...CRASH_ENV, LOG_LEVEL: 'info' },
    });
    await eventually(`${name} ready`, async () => readFileSync(proc.logPath, 'utf8').includes('provisioning worker started'), 30000);
    return proc;
  }

  /** A new network (through host sync) with a worker running and its 1,000-customer import queued. */
  async function importIntoNewNetwork(prefix: string, name: string, workerName: string) {
    const net = uniqueId(prefix);
    const token = mintToken(
      { secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience },
      { role: 'service', sub: 'host-platform', net },
    );
    expect((await callApi(portal.url, 'PUT', `/v1/networks/${net}`, token, { name })).status).toBe(200);
    const first = await startWorker(workerName);
    worker = first;
    const res = await callApi(portal.url, 'POST', `/v1/networks/${net}/customers:import`, token, { customers: customerRows(CUSTOMERS) });
    return { net, token, res, first };
  }

  beforeAll(async () => {
    appservice = await startAppservice(config, { log });
    portal = await startPortalApi(config, { log });
  });
  afterAll(async () => {
    await worker?.stop();
    await portal?.stop();
    await appservice?.stop();
  });

  test('SIGKILL: after a restart every customer is provisioned exactly once', async () => {
    const { net, token, res, first } = await importIntoNewNetwork('kill', 'Crash Corner', 'worker-1');
    expect(res.status).toBe(202);

    await eventually('the import half-way', async () => {
      const job = (await callApi(portal.url, 'GET', `/v1/jobs/${res.body.jobId}`, token)).body;
      return job.progress >= 20 ? job : null;
    }, 60000);
    await first.kill();
    const killedAt = (await callApi(portal.url, 'GET', `/v1/jobs/${res.body.jobId}`, token)).body;
    expect(killedAt.state).not.toBe('completed');

    worker = await startWorker('worker-2');
    const job = await waitForJob(portal.url, token, res.body.jobId, { timeoutMs: 120000 });
    expect(job).toMatchObject({ state: 'completed', progress: 100, failures: [] });
    // A batch that finished just before the kill is found done on the rerun ("unchanged"): no row twice.
    const result = job.result as { provisioned: number; unchanged: number; failed: number };
    expect(result.provisioned + result.unchanged).toBe(CUSTOMERS);
    expect(result.failed).toBe(0);
    await expectEveryCustomerOnceOnSynapse(config, net);
    await worker.stop();
  });

  // Batches in flight hand their rest back at SIGTERM; one still in its MongoDB phase when the
  // shutdown grace runs out (FerretDB under load) is taken over after its lock expires instead.
  test('SIGTERM: the worker exits cleanly and the next worker completes the import, every customer once', async () => {
    const { net, token, res, first } = await importIntoNewNetwork('term', 'Quiet Quarter', 'worker-term');
    await eventually('the import half-way', async () => (await callApi(portal.url, 'GET', `/v1/jobs/${res.body.jobId}`, token)).body.progress >= 20, 60000);
    await first.stop(20000);
    expect({ code: first.child.exitCode, signal: first.child.signalCode }).toEqual({ code: 0, signal: null });
    // The worker stopped with the import unfinished: the next worker has something to complete.
    const stoppedAt = (await callApi(portal.url, 'GET', `/v1/jobs/${res.body.jobId}`, token)).body;
    expect(stoppedAt.state).not.toBe('completed');
    expect(await provisionedIn(net)).toBeLessThan(CUSTOMERS);

    worker = await startWorker('worker-after-term');
    const job = await waitForJob(portal.url, token, res.body.jobId, { timeoutMs: 120000 });
    // Customers done before the hand-back are found done ("unchanged"), the rest provisioned now.
    expect(job).toMatchObject({ state: 'completed', failures: [], result: { failed: 0 } });
    const result = job.result as { provisioned: number; unchanged: number };
    expect(result.provisioned + result.unchanged).toBe(CUSTOMERS);
    await expectEveryCustomerOnceOnSynapse(config, net);
  });
});

describe('import with Redis restarted half-way', () => {
  let redis: RedisHandle;

  beforeAll(async () => {
    redis = await startRedis({ dataDir: mkdtempSync(join(process.env.TEST_DATA_DIR ?? tmpdir(), 'redis-restart-')) });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** An import into a new network with Redis restarted (or SIGKILLed) once it is at least 20 % done. */
  async function importAcrossRedisFault(kill: boolean) {
    const s = await startServices({ ...CRASH_ENV, REDIS_URL: redis.url });
    try {
      const net = uniqueId('redis');
      const service = s.token('service', 'host-platform', net);
      expect((await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Restart Row' })).status).toBe(200);
      const res = await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: customerRows(CUSTOMERS) });
      expect(res.status).toBe(202);
      await eventually('the import half-way', async () => (await s.api('GET', `/v1/jobs/${res.body.jobId}`, service)).body.progress >= 20, 120000);
      // The import is unfinished when Redis goes away: not every customer is provisioned yet.
      let provisionedWhileDown = -1;
      await redis.restart(1000, { kill, whileDown: async () => (provisionedWhileDown = await provisionedIn(net)) });
      expect(provisionedWhileDown).toBeGreaterThanOrEqual(0);
      expect(provisionedWhileDown).toBeLessThan(CUSTOMERS);
      const job = await waitForJob(s.baseUrl, service, res.body.jobId, { timeoutMs: 120000 });
      expect(job).toMatchObject({ state: 'completed', progress: 100, failures: [] });
      const result = job.result as { provisioned: number; unchanged: number; failed: number };
      expect(result.provisioned + result.unchanged).toBe(CUSTOMERS);
      await expectEveryCustomerOnceOnSynapse(s.config, net);
    } finally {
      await s.stop();
    }
  }

  test('the import completes and every customer is provisioned exactly once', async () => {
    await importAcrossRedisFault(false);
  });

  // SIGKILL: Redis syncs its append-only file once a second, so the last writes before the kill are
  // gone when it comes back (jobs may find themselves back where they were a moment earlier).
  test('Redis SIGKILLed: the import completes and every customer is provisioned exactly once', async () => {
    await importAcrossRedisFault(true);
  });
});
