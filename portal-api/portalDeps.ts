import type { Redis } from 'ioredis';
import { type CoreServices } from '../appservice';
import { type ProvisioningQueue } from '../provisioning';

/** What the portal API's routes are built from. */
export interface PortalDeps {
  services: CoreServices;
  queue: ProvisioningQueue;
  redis: Redis;
}
