import type { Redis } from 'ioredis';
import type { CoreServices } from '../appservice/coreServices';
import type { ProvisioningQueue } from '../provisioning/provisioningQueue';

/** What the portal API's routes are built from. */
export interface PortalDeps {
  services: CoreServices;
  queue: ProvisioningQueue;
  redis: Redis;
}
