import { NotFoundError } from '../../runtime';
import { deactivateCustomer, findCustomer } from '../../store';
import type { ProvisioningQueue } from '../provisioningQueue';
import type { LiveEventPublisher } from '../../live';

/** Marks the customer deactivated and queues the job; asking again for the same thing queues nothing new. */
export async function deprovisionCustomer(
  queue: ProvisioningQueue,
  live: LiveEventPublisher,
  networkId: string,
  customerId: string,
  erase: boolean,
): Promise<string> {
  const customer = await findCustomer(networkId, customerId);
  if (!customer) throw new NotFoundError('customer');
  const alreadyDone = customer.status === 'deactivated' && (!erase || customer.erasedAt);
  const current = alreadyDone ? customer : await deactivateCustomer(networkId, customerId);
  await live.endStreams({ kind: 'customer', networkId, id: customerId });
  return queue.deprovisionCustomer(networkId, customerId, current!.version, erase);
}
