import { ConversationModel, findByIds, findCustomers, type ReadMarkerDoc } from '../../store';
import type { Actor, Conversation } from './conversationService';
import type { ReadMarkers } from './readMarkers';
import { decodeCursor, encodeCursor } from './pageCursor';
import { inboxPageFromHead } from './supportInbox';

/** A customer of a conversation, as lists show them. */
export interface Participant {
  customerId: string;
  displayName: string;
  avatarUrl?: string | null;
  kind: string;
}

/** Whose list: a customer's own conversations, or a network's support inbox (administrators). */
export type ChatListScope = { kind: 'customer'; networkId: string; customerId: string } | { kind: 'support_inbox'; networkId: string };

export interface ChatListPage {
  entries: Array<{ conversation: Conversation; unreadCount: number }>;
  /** The customers of the page's conversations, by id. */
  participants: Map<string, Participant>;
  nextCursor: string | null;
}

/**
 * A page of conversations, newest activity first, with the caller's unread count on each. A
 * network's support inbox reads its first pages from the inbox head (supportInbox.ts, then one
 * query by `_id` per collection); other lists and deeper pages use the indexed keyset query.
 */
export async function chatListPage(readMarkers: ReadMarkers, actor: Actor, scope: ChatListScope, page: { cursor?: string; limit: number }): Promise<ChatListPage> {
  const after = page.cursor ? decodeCursor(page.cursor, ['number', 'string'] as const) : null;
  let chats: Conversation[] | null = null;
  let next: { at: number; id: string } | null = null;
  let markers: Map<string, ReadMarkerDoc | null> | undefined;
  let people: Map<string, Participant> | undefined;
  if (scope.kind === 'support_inbox') {
    const fromHead = await inboxPageFromHead(scope.networkId, page.limit, after ? { at: new Date(after[0]), chatId: after[1] } : undefined);
    if (fromHead) {
      // The head names the conversations and their customers: every lookup of the page at once.
      const ids = fromHead.entries.map((e) => e.chatId);
      const customerIds = fromHead.entries.every((e) => e.customerIds) ? [...new Set(fromHead.entries.flatMap((e) => e.customerIds!))] : null;
      const [docs, loadedMarkers, loadedPeople] = await Promise.all([
        findByIds<Conversation>(ConversationModel, ids),
        readMarkers.markersOf(ids, actor),
        customerIds ? participantsById(scope.networkId, customerIds) : undefined,
      ]);
      chats = ids.flatMap((id) => docs.get(id) ?? []);
      markers = loadedMarkers;
      people = loadedPeople;
      const last = fromHead.entries[fromHead.entries.length - 1];
      next = fromHead.more && last ? { at: last.at.getTime(), id: last.chatId } : null;
    }
  }
  if (!chats) {
    const filter: Record<string, unknown> =
      scope.kind === 'customer' ? { networkId: scope.networkId, customerIds: scope.customerId } : { networkId: scope.networkId, kind: 'support' };
    const conditions: Record<string, unknown>[] = [filter];
    if (after) {
      const at = new Date(after[0]);
      conditions.push({ $or: [{ lastActivityAt: { $lt: at } }, { lastActivityAt: at, _id: { $lt: after[1] } }] });
    }
    const docs = await ConversationModel.find(conditions.length === 1 ? filter : { $and: conditions })
      .sort({ lastActivityAt: -1, _id: -1 })
      .limit(page.limit + 1)
      .lean<Conversation[]>();
    chats = docs.slice(0, page.limit);
    const last = chats[chats.length - 1];
    next = docs.length > page.limit && last ? { at: new Date(last.lastActivityAt).getTime(), id: last._id } : null;
  }
  const [unread, participants] = await Promise.all([readMarkers.unreadCounts(chats, actor, markers), people ?? participantsOf(chats)]);
  return {
    entries: chats.map((conversation) => ({ conversation, unreadCount: unread.get(conversation._id) ?? 0 })),
    participants,
    nextCursor: next ? encodeCursor([next.at, next.id]) : null,
  };
}

/** The customers of these conversations (all of one network), by id. */
export async function participantsOf(chats: readonly Conversation[]): Promise<Map<string, Participant>> {
  const networkId = chats[0]?.networkId;
  return networkId ? participantsById(networkId, [...new Set(chats.flatMap((c) => c.customerIds))]) : new Map();
}

async function participantsById(networkId: string, ids: readonly string[]): Promise<Map<string, Participant>> {
  return new Map((await findCustomers(networkId, ids)).map((c) => [c.customerId, c]));
}
