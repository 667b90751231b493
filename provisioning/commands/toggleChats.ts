import { NotFoundError } from '../../runtime';
import { setChatsEnabled, targetChatsToggle, type NetworkDoc } from '../../store';
import type { ProvisioningQueue } from '../provisioningQueue';
import type { LiveEventPublisher } from '../../live';
import { announceFeatures } from './networkFeatures';

/**
 * Rule 1, the chats toggle, wherever it is set (administrators' settings, the operators' route,
 * host sync, chatctl): the flag answers the portal at once, and a queued fan-out makes every Matrix
 * room follow (read-only, or restored exactly as it was). Nothing is deleted. Asking again for the
 * same state queues nothing new.
 */
export async function toggleChats(queue: ProvisioningQueue, live: LiveEventPublisher, networkId: string, enabled: boolean): Promise<{ network: NetworkDoc; jobId: string }> {
  const network = await setChatsEnabled(networkId, enabled);
  if (!network) throw new NotFoundError('network');
  const jobId = await queueChatsFanout(queue, networkId, network.chatsEnabled);
  await announceFeatures(live, network);
  return { network, jobId };
}

/** Queues the rooms' fan-out toward `enabled`, for a flag already written (host sync writes it with the network). */
export async function queueChatsFanout(queue: ProvisioningQueue, networkId: string, enabled: boolean): Promise<string> {
  const target = await targetChatsToggle(networkId, enabled);
  if (!target) throw new NotFoundError('network');
  return queue.chatsToggle(networkId, target.version, enabled);
}
