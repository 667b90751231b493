import { atMost, stopOnce } from '../appservice/lifecycle';
import { Worker } from 'bullmq';
import type { Config } from '../appservice/config';
import { createRootLogger, type Logger } from '../appservice/logger';
import { connectDatabase, disconnectDatabase } from '../appservice/domain/database';
import { createCoreServices } from '../appservice/coreServices';
import { ConversationService } from '../appservice/domain/conversationService';
import { VirtualUserService } from '../appservice/matrix/virtualUserService';
import { createWorkerConnection } from './redisConnection';
import { PROVISIONING_QUEUE, ProvisioningQueue, type ProvisioningJobData } from './provisioningQueue';
import { RateLimitedMatrixApi, SynapseRequestLimiter } from './synapseRequestLimit';
import { SynapseAdminApi } from './synapseAdminApi';
import { createProvisioningProcessor } from './provisioningJobs';
import { startNotificationDelivery } from './notificationDelivery';
import { closeWorker } from './workerShutdown';

export interface ProvisioningWorkerHandle {
  worker: Worker<ProvisioningJobData>;
  stop(): Promise<void>;
}

/** Starts the BullMQ worker that provisions virtual users, spaces and rooms. */
export async function startProvisioningWorker(config: Config, opts: { log?: Logger } = {}): Promise<ProvisioningWorkerHandle> {
  const log = (opts.log ?? createRootLogger(config.logLevel, 'provisioning')).child({ module: 'provisioning' });
  await connectDatabase(config.mongodbUri);
  const core = createCoreServices(config, log);
  const connection = createWorkerConnection(config.redisUrl);
  const matrix = new RateLimitedMatrixApi(
    config.synapse.url,
    core.registration.asToken,
    new SynapseRequestLimiter(connection, config.provisioning.maxRequestsPerSecond),
  );
  const virtualUsers = new VirtualUserService(matrix, config.matrixDomain, log.child({ module: 'virtualUsers' }));
  const services = {
    ...core,
    matrix,
    virtualUsers,
    conversations: new ConversationService(matrix, virtualUsers, config.matrixDomain, log.child({ module: 'conversations' })),
  };
  const queue = new ProvisioningQueue(connection);
  const synapseAdmin = new SynapseAdminApi(config.synapse.url, config.synapseAdmin, log.child({ module: 'synapseAdmin' }));
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
  return {
    worker,
    stop: stopOnce(async () => {
      // Finishes in-flight jobs; anything still locked is picked up by another worker after expiry.
      shuttingDown = true;
      await closeWorker(worker, connection);
      await notificationDelivery.stop();
      await atMost(queue.close(), 1000);
      connection.disconnect();
      await disconnectDatabase();
    }),
  };
}
