import { findBooking, findFeedPost } from '../../store';
import type { ChatPath } from './chatRules';

/** Turns the request's `via` into the facts the rules need, scoped to the caller's network. */
export async function resolveChatPath(networkId: string, via: { type: 'community' | 'feed_post' | 'booking'; id?: string }): Promise<ChatPath> {
  if (via.type === 'community') return { type: 'community' };
  if (via.type === 'feed_post') {
    const post = await findFeedPost(networkId, via.id!);
    // An unknown post reaches nobody; the answer stays the generic "not reachable".
    return post ? { type: 'feed_post', authorId: post.authorId, locationId: post.locationId ?? null } : { type: 'none' };
  }
  const booking = await findBooking(networkId, via.id!);
  return booking ? { type: 'booking', participantIds: booking.participantIds, shared: booking.shared } : { type: 'none' };
}

