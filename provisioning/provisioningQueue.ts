import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { encodeIdPart } from '../appservice';
import type { ImportFailure, ImportRow } from './commands/customerImportRows';

export const PROVISIONING_QUEUE = 'provisioning';

export type ProvisioningJobData =
  | { kind: 'customer'; networkId: string; customerId: string; version: number }
  /** Registers the administrator and brings their support-room membership in line (joined, or kicked when removed). */
  | { kind: 'admin'; networkId: string; adminId: string; version: number }
  | {
      kind: 'customer-import';
      networkId: string;
      total: number;
      /** Rows still to hand to batches; emptied once the batches are queued. */
      rows: ImportRow[];
      invalid: ImportFailure[];
      batches?: number;
    }
  | { kind: 'customer-import-batch'; networkId: string; rows: ImportRow[] }
  | { kind: 'chats-toggle'; networkId: string; version: number; enabled: boolean }
  /** Space membership per community visibility: one customer, or (no customerId) the whole network. */
  | { kind: 'space-placement'; networkId: string; customerId?: string }
  /** Everything a customer sent and the conversations they are in, as one JSON document (Safety). */
  | { kind: 'customer-export'; networkId: string; customerId: string; exportId: string }
  | {
      kind: 'customer-deprovision';
      networkId: string;
      customerId: string;
      version: number;
      erase: boolean;
      /** Synapse's redaction task, remembered so a retried job waits for it instead of starting another. */
      redactId?: string;
    };

export type ProvisioningJob = Job<ProvisioningJobData>;

const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Bulk import batches yield to single syncs (jobs without a priority run first). */
export const IMPORT_BATCH_PRIORITY = 10;

/** Job ids carry the entity and its version: `customer.<network>.<customer>.v3`. */
export function entityJobId(kind: string, networkId: string, entityId: string | null, version: number | string): string {
  const entity = entityId === null ? '' : `.${encodeIdPart(entityId)}`;
  return `${kind}.${encodeIdPart(networkId)}${entity}.v${version}`;
}

/**
 * The producer side of provisioning. Job ids come from the entity and its version, so repeating
 * the same sync (or a host platform retrying a request) queues the work once.
 */
export class ProvisioningQueue {
  readonly queue: Queue<ProvisioningJobData>;

  constructor(connection: Redis) {
    this.queue = new Queue<ProvisioningJobData>(PROVISIONING_QUEUE, { connection, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    // Connection errors are logged by the connection's owner (portal API, worker); calls fail on their own.
    this.queue.on('error', () => undefined);
  }

  async provisionCustomer(networkId: string, customerId: string, version: number): Promise<string> {
    const jobId = entityJobId('customer', networkId, customerId, version);
    await this.queue.add('provision-customer', { kind: 'customer', networkId, customerId, version }, { jobId });
    return jobId;
  }

  async provisionAdmin(networkId: string, adminId: string, version: number): Promise<string> {
    const jobId = entityJobId('admin', networkId, adminId, version);
    await this.queue.add('provision-admin', { kind: 'admin', networkId, adminId, version }, { jobId });
    return jobId;
  }

  async deprovisionCustomer(networkId: string, customerId: string, version: number, erase: boolean): Promise<string> {
    const jobId = entityJobId('deprovision', networkId, customerId, version);
    await this.queue.add('deprovision-customer', { kind: 'customer-deprovision', networkId, customerId, version, erase }, { jobId });
    return jobId;
  }

  /**
   * Space placement after a change of visibility, locations or a Feed post. Not versioned: placement
   * converges on the current state, so each change queues a run (the id carries the time).
   */
  async exportCustomer(networkId: string, customerId: string, exportId: string): Promise<string> {
    const jobId = entityJobId('export', networkId, customerId, exportId);
    await this.queue.add('customer-export', { kind: 'customer-export', networkId, customerId, exportId }, { jobId, priority: IMPORT_BATCH_PRIORITY });
    return jobId;
  }

  async placeInSpaces(networkId: string, customerId?: string): Promise<string> {
    const jobId = entityJobId('spaces', networkId, customerId ?? null, Date.now());
    // A whole network's placement is bulk work: it yields to single syncs like import batches do.
    await this.queue.add('space-placement', { kind: 'space-placement', networkId, ...(customerId ? { customerId } : {}) }, {
      jobId,
      ...(customerId ? {} : { priority: IMPORT_BATCH_PRIORITY }),
    });
    return jobId;
  }

  async chatsToggle(networkId: string, version: number, enabled: boolean): Promise<string> {
    const jobId = entityJobId('chats-toggle', networkId, null, version);
    await this.queue.add('chats-toggle', { kind: 'chats-toggle', networkId, version, enabled }, { jobId });
    return jobId;
  }

  /** `contentHash` identifies the import: posting the same file twice queues it once. */
  async importCustomers(networkId: string, contentHash: string, rows: ImportRow[], invalid: ImportFailure[]): Promise<string> {
    const jobId = entityJobId('import', networkId, null, contentHash);
    await this.queue.add(
      'import-customers',
      { kind: 'customer-import', networkId, total: rows.length + invalid.length, rows, invalid },
      { jobId },
    );
    return jobId;
  }

  getJob(jobId: string): Promise<ProvisioningJob | undefined> {
    return this.queue.getJob(jobId);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
