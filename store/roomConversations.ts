import { LRUCache } from 'lru-cache';
import { ConversationModel } from './index';

/**
 * roomId → conversation id, for the Matrix event paths that only know the room. FerretDB scans the
 * whole conversations collection for `{ roomId }` (it serves only `_id` from an index), so each room
 * is looked up once per process and then remembered. A conversation's room never changes once set,
 * so a remembered answer can never go stale; a miss (not one of our rooms, or a room whose id is not
 * stored yet) is not remembered and is asked again next time.
 */
const known = new LRUCache<string, string>({ max: 50_000 });

/** The id of the conversation whose room this is; null when it is no conversation's room. */
export async function conversationIdOfRoom(roomId: string): Promise<string | null> {
  const hit = known.get(roomId);
  if (hit !== undefined) return hit;
  const doc = await ConversationModel.findOne({ roomId }).select({ _id: 1 }).lean<{ _id: string }>();
  if (!doc) return null;
  known.set(roomId, doc._id);
  return doc._id;
}

/** Called where a conversation's room is stored, so the first event from the room finds it at once. */
export function rememberConversationRoom(roomId: string, conversationId: string): void {
  known.set(roomId, conversationId);
}
