import type { Redis } from 'ioredis';
import { type CoreServices } from '../../appservice';
import { type Logger } from '../../runtime';
import type { ProvisioningQueue } from '../provisioningQueue';
import type { SynapseAdminApi } from '../synapseAdminApi';

/** What every provisioning job runs with (built once per worker in start.ts). */
export interface JobContext {
  /** Domain and Matrix services whose Synapse client honours SYNAPSE_MAX_REQUESTS_PER_SECOND. */
  services: CoreServices;
  /** For jobs that queue follow-up work (import batches) or pause the queue on a Synapse 429. */
  queue: ProvisioningQueue;
  redis: Redis;
  synapseAdmin: SynapseAdminApi;
  log: Logger;
  /** True once the worker was asked to stop (SIGTERM): long jobs hand their remaining work back. */
  shuttingDown(): boolean;
}
