import { createRootLogger } from '../../runtime';
import { loadRegistration, MatrixApi, startAppservice, virtualUserId, virtualUserLocalpart, type AppserviceHandle } from '../../appservice';
import { createProducerConnection, ProvisioningQueue, startProvisioningWorker, type ProvisioningWorkerHandle } from '../../provisioning';
import { connectDatabase, disconnectDatabase, upsertLocation, upsertNetwork, writeCustomerBatch, markCustomersProvisioned } from '../../store';
import { eventually, testConfig, uniqueId } from '../support/harness';
import { provisioningEnv } from '../support/provisioningHelpers';
import { startSynapseFaultProxy, type SynapseFaultProxy } from '../support/synapseFaultProxy';

const LIMIT = 20;
const CUSTOMERS = 20;

/**
 * SYNAPSE_MAX_REQUESTS_PER_SECOND holds for every service of a worker, space placement included:
 * the worker talks to Synapse through a counting proxy, and a whole network's placement (a few
 * requests per customer and space) never goes faster than the ceiling.
 */
describe('the workers stay under the configured Synapse request rate', () => {
  let proxy: SynapseFaultProxy;
  let worker: ProvisioningWorkerHandle;
  let queue: ProvisioningQueue;
  let redis: ReturnType<typeof createProducerConnection>;
  let appservice: AppserviceHandle;

  beforeAll(async () => {
    // Synapse asks the appservice before every invite and join (homeserver rules); it talks to
    // Synapse directly, so its requests are not counted.
    appservice = await startAppservice(testConfig(), { log: createRootLogger('warn', 'test') });
    proxy = await startSynapseFaultProxy(process.env.SYNAPSE_URL!);
    const config = testConfig(provisioningEnv({ SYNAPSE_URL: proxy.url, SYNAPSE_MAX_REQUESTS_PER_SECOND: String(LIMIT) }));
    await connectDatabase(config.mongodbUri);
    worker = await startProvisioningWorker(config, { log: createRootLogger(config.logLevel, 'test') });
    redis = createProducerConnection(config.redisUrl);
    queue = new ProvisioningQueue(redis);
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await worker?.stop();
    await disconnectDatabase();
    await proxy?.stop();
    await appservice?.stop();
  });

  test(`space placement of a network of ${CUSTOMERS} members stays at or under ${LIMIT} requests per second`, async () => {
    const config = testConfig();
    const domain = config.matrixDomain;
    const net = uniqueId('ceiling');
    await upsertNetwork(net, { name: 'Ceiling Coworking' });
    await upsertLocation(net, 'main', 'Main Street');
    const rows = Array.from({ length: CUSTOMERS }, (_, i) => ({
      customerId: `m${i}`,
      fields: { kind: 'member' as const, displayName: `Member ${i}`, locationIds: ['main'], hideNameOnBookings: false, status: 'active' as const },
    }));
    await writeCustomerBatch(net, rows, (id) => virtualUserId({ kind: 'customer', networkId: net, id }, domain));
    // The members' Matrix accounts, registered directly (not through the worker, not counted).
    const direct = new MatrixApi(process.env.SYNAPSE_URL!, loadRegistration(config.appservice.registrationPath, { production: false }).asToken);
    for (const r of rows) await direct.registerVirtualUser(virtualUserLocalpart({ kind: 'customer', networkId: net, id: r.customerId }));
    // Registered: what their own provisioning would have recorded (placement leaves unregistered people to it).
    await markCustomersProvisioned(net, rows.map((r) => ({ customerId: r.customerId, version: 1 })));

    const before = proxy.requests.length;
    const jobId = await queue.placeInSpaces(net);
    await eventually(
      'the placement job to finish',
      async () => {
        const state = await (await queue.queue.getJob(jobId))?.getState();
        if (state === 'failed') throw new Error(`placement failed: ${(await queue.queue.getJob(jobId))?.failedReason}`);
        return state === 'completed';
      },
      90000,
    );
    const placement = proxy.requests.slice(before).map((r) => r.at);

    // The work went through the worker's client: the two spaces, then join state for every member.
    expect(placement.length).toBeGreaterThanOrEqual(CUSTOMERS * 4);
    // The budget is counted in fixed one-second windows, so any second of wall time can hold the end
    // of one window and the start of the next: at most twice the ceiling.
    let busiest = 0;
    for (let i = 0, j = 0; j < placement.length; j++) {
      while (placement[j]! - placement[i]! >= 1000) i++;
      busiest = Math.max(busiest, j - i + 1);
    }
    expect(busiest).toBeLessThanOrEqual(2 * LIMIT);
    // And over the whole placement, the average stays at the ceiling.
    const seconds = (placement[placement.length - 1]! - placement[0]!) / 1000;
    expect(placement.length).toBeLessThanOrEqual(LIMIT * (Math.ceil(seconds) + 1));
  });
});
