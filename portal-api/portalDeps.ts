import type { Redis } from 'ioredis';
import { type CoreServices } from '../appservice';
import { type ProvisioningQueue } from '../provisioning';
import type { LiveEventHub } from '../live';

/** What the portal API's routes are built from. */
export interface PortalDeps {
  services: CoreServices;
  queue: ProvisioningQueue;
  redis: Redis;
  /** This process's live event listeners (GET /v1/events). */
  liveHub: LiveEventHub;
}
