import { Worker } from 'bullmq';
import type { Config } from '../appservice/config';
import { createRootLogger, type Logger } from '../appservice/logger';
import { connectDatabase, disconnectDatabase } from '../appservice/domain/database';
import { createCoreServices } from '../appservice/coreServices';
import { createWorkerConnection } from './redisConnection';
import { PROVISIONING_QUEUE, type ProvisioningJobData } from './provisioningQueue';
import { createProvisioningProcessor } from './provisioningJobs';
import { startNotificationDelivery } from './notificationDelivery';

export interface ProvisioningWorkerHandle {
  worker: Worker<ProvisioningJobData>;
  stop(): Promise<void>;
}

/** Starts the BullMQ worker that provisions virtual users, spaces and rooms. */
export async function startProvisioningWorker(config: Config, opts: { log?: Logger } = {}): Promise<ProvisioningWorkerHandle> {
  const log = (opts.log ?? createRootLogger(config.logLevel, 'provisioning')).child({ module: 'provisioning' });
  await connectDatabase(config.mongodbUri);
  const services = createCoreServices(config, log);
  const connection = createWorkerConnection(config.redisUrl);
  const worker = new Worker<ProvisioningJobData>(PROVISIONING_QUEUE, createProvisioningProcessor(services, log), {
    connection,
    concurrency: config.provisioning.concurrency,
    limiter: { max: config.provisioning.maxRequestsPerSecond, duration: 1000 },
  });
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
  await worker.waitUntilReady();
  log.info({ concurrency: config.provisioning.concurrency }, 'provisioning worker started');
  const notificationDelivery = await startNotificationDelivery(connection, log.child({ module: 'notificationDelivery' }));
  return {
    worker,
    async stop() {
      // Finishes in-flight jobs; anything still locked is picked up by another worker after expiry.
      await worker.close();
      await notificationDelivery.stop();
      connection.disconnect();
      await disconnectDatabase();
    },
  };
}
