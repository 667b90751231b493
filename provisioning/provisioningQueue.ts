import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { encodeIdPart } from '../appservice/matrix/virtualUsers';

export const PROVISIONING_QUEUE = 'provisioning';

export type ProvisioningJobData =
  | { kind: 'customer'; networkId: string; customerId: string; version: number }
  | { kind: 'admin'; networkId: string; adminId: string; version: number };

const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * The producer side of provisioning. Job ids come from the entity and its version, so repeating
 * the same sync (or a host platform retrying a request) queues the work once.
 */
export class ProvisioningQueue {
  readonly queue: Queue<ProvisioningJobData>;

  constructor(connection: Redis) {
    this.queue = new Queue<ProvisioningJobData>(PROVISIONING_QUEUE, { connection, defaultJobOptions: DEFAULT_JOB_OPTIONS });
  }

  async provisionCustomer(networkId: string, customerId: string, version: number): Promise<string> {
    const jobId = `customer.${encodeIdPart(networkId)}.${encodeIdPart(customerId)}.v${version}`;
    await this.queue.add('provision-customer', { kind: 'customer', networkId, customerId, version }, { jobId });
    return jobId;
  }

  async provisionAdmin(networkId: string, adminId: string, version: number): Promise<string> {
    const jobId = `admin.${encodeIdPart(networkId)}.${encodeIdPart(adminId)}.v${version}`;
    await this.queue.add('provision-admin', { kind: 'admin', networkId, adminId, version }, { jobId });
    return jobId;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
