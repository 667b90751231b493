import { atMost, stopOnce, type Config, createRootLogger, type Logger, reportQueueMetrics, startOpsListener } from '../runtime';
import { Worker } from 'bullmq';
import { createCore } from '../appservice';
import { createWorkerConnection } from './redisConnection';
import { PROVISIONING_QUEUE, ProvisioningQueue, type ProvisioningJobData } from './provisioningQueue';
import { RateLimitedMatrixApi, SynapseRequestLimiter } from './synapseRequestLimit';
import { createProvisioningProcessor } from './jobs/provisioningJobs';
import { startNotificationDelivery } from './jobs/notificationDelivery';
import { startEmailDigests } from './jobs/emailDigests';
import { closeWorker } from './workerShutdown';
import { connectDatabase, databaseConnected, disconnectDatabase } from '../store';

export interface ProvisioningWorkerHandle {
  worker: Worker<ProvisioningJobData>;
  /** Port of the worker's probe listener (/livez, /readyz on WORKER_HTTP_HOST). */
  httpPort: number;
  stop(): Promise<void>;
}

/** Starts the BullMQ worker that provisions virtual users, spaces and rooms. */
export async function startProvisioningWorker(config: Config, opts: { log?: Logger } = {}): Promise<ProvisioningWorkerHandle> {
  const log = (opts.log ?? createRootLogger(config.logLevel, 'provisioning')).child({ module: 'provisioning' });
  await connectDatabase(config.mongodbUri);
  const connection = createWorkerConnection(config.redisUrl);
  // Every service of the worker (virtual users, conversations, spaces) uses the rate-limited
  // client, so no job can exceed SYNAPSE_MAX_REQUESTS_PER_SECOND.
  const limiter = new SynapseRequestLimiter(connection, config.provisioning.maxRequestsPerSecond);
  const services = createCore(config, log, { matrixClient: (url, asToken) => new RateLimitedMatrixApi(url, asToken, limiter) });
  const queue = new ProvisioningQueue(connection);
  const synapseAdmin = services.synapseAdmin;
  let shuttingDown = false;
  const processor = createProvisioningProcessor({ services, queue, redis: connection, synapseAdmin, log, shuttingDown: () => shuttingDown });
  const worker = new Worker<ProvisioningJobData>(PROVISIONING_QUEUE, processor, {
    connection,
    concurrency: config.provisioning.concurrency,
    // Jobs per second never exceed requests per second; the limiter also lets a Synapse 429 pause the queue.
    limiter: { max: config.provisioning.maxRequestsPerSecond, duration: 1000 },
    lockDuration: config.jobs.lockSeconds * 1000,
    stalledInterval: config.jobs.stalledCheckSeconds * 1000,
    // A job whose worker died twice is failed with "job stalled more than allowable limit", not retried for ever.
    maxStalledCount: 2,
  });
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
  await worker.waitUntilReady();
  log.info({ concurrency: config.provisioning.concurrency }, 'provisioning worker started');
  const notificationDelivery = await startNotificationDelivery(connection, log.child({ module: 'notificationDelivery' }), {
    allowPrivateAddresses: config.webhooks.allowPrivateAddresses,
  });
  const emailDigests = await startEmailDigests(connection, log.child({ module: 'emailDigests' }), config);
  // Queue depth for /metrics, by BullMQ's own exporter (bullmq_job_count by queue and state).
  const queues = [queue.queue, notificationDelivery.queue, ...(emailDigests ? [emailDigests.queue] : [])];
  const unreport = queues.map((q) => reportQueueMetrics(() => q.exportPrometheusMetrics()));
  const probes = await startOpsListener({
    host: config.workerHttp.host,
    port: config.workerHttp.port,
    checks: () => ({ mongodb: databaseConnected(), redis: connection.status === 'ready', worker: worker.isRunning() }),
  }).catch(async (err) => {
    shuttingDown = true;
    await closeWorker(worker, connection);
    await notificationDelivery.stop();
    await emailDigests?.stop();
    connection.disconnect();
    await disconnectDatabase();
    throw err;
  });
  log.info({ port: probes.port }, 'provisioning worker probes listening');
  return {
    worker,
    httpPort: probes.port,
    stop: stopOnce(async () => {
      // Finishes in-flight jobs; anything still locked is picked up by another worker after expiry.
      shuttingDown = true;
      for (const undo of unreport) undo();
      await probes.stop();
      await closeWorker(worker, connection);
      await notificationDelivery.stop();
      await emailDigests?.stop();
      await atMost(queue.close(), 1000);
      await services.live.close();
      await services.leases.close();
      connection.disconnect();
      await disconnectDatabase();
    }),
  };
}
