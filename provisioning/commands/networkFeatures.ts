import type { LiveEventPublisher } from '../../live';
import type { NetworkDoc } from '../../store';

/**
 * features.changed on the live stream: what GET /v1/me/features answers changed for everyone of
 * the network (the chats toggle, community visibility), wherever it was set.
 */
export function announceFeatures(live: LiveEventPublisher, network: Pick<NetworkDoc, '_id' | 'chatsEnabled' | 'communityVisibility'>): Promise<void> {
  return live.featuresChanged(network._id, { chats: network.chatsEnabled, communityVisibility: network.communityVisibility });
}
