import type { JobContext } from './jobContext';
import type { ProvisioningJob } from '../provisioningQueue';
import { findCustomer } from '../../store';

/**
 * Re-places customers in the network's spaces (appservice/domain/communitySpaces.ts decides where):
 * one customer after a change that affects only them (a Feed post), or the whole network after its
 * community visibility or its locations changed. Placement converges, so a repeated job is harmless.
 */
export async function runSpacePlacement(ctx: JobContext, job: ProvisioningJob): Promise<{ placed: number }> {
  const data = job.data as Extract<ProvisioningJob['data'], { kind: 'space-placement' }>;
  const spaces = ctx.services.spaces;
  if (data.customerId) {
    const customer = await findCustomer(data.networkId, data.customerId);
    // Not registered on Synapse yet: their provisioning job places them.
    if (!customer?.registeredOnMatrix) return { placed: 0 };
    await spaces.placeCustomer(data.networkId, data.customerId, customer.matrixUserId);
    return { placed: 1 };
  }
  const placed = await spaces.placeNetwork(data.networkId, (done, total) => {
    // Best effort: a progress write lost to a closing connection must not become an unhandled rejection.
    if (done % 50 === 0 || done === total) job.updateProgress(Math.round((done * 100) / total)).catch(() => undefined);
  });
  return { placed };
}
