import type { Redis } from 'ioredis';
import { type CoreServices } from '../appservice';
import { type MatrixAccess, type ProvisioningQueue, type SynapseAdminApi } from '../provisioning';
import type { LiveEventHub } from '../live';

/** What the portal API's routes are built from. */
export interface PortalDeps {
  services: CoreServices;
  queue: ProvisioningQueue;
  /** Matrix sessions (one device per person, revocable) and account locks. */
  matrixAccess: MatrixAccess;
  /** Synapse's admin API (Matrix clients' event reports). */
  synapseAdmin: SynapseAdminApi;
  redis: Redis;
  /** This process's live event listeners (GET /v1/events). */
  liveHub: LiveEventHub;
}
