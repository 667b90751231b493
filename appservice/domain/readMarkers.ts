import { NotFoundError } from '../../runtime';
import type { MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';
import { countUnread } from './messageIndex';
import { activeAdministrators, AdminNotificationModel, findByIds, ReadMarkerModel, type ReadMarkerDoc, isDuplicateKey, readMarkerId } from '../../store';
import type { LiveEventPublisher } from '../../live';

/**
 * Read markers: how far each participant has read a conversation. Matrix gets an m.read receipt and
 * an m.fully_read marker from the reader's virtual user (so Matrix clients agree), and MongoDB keeps
 * the participant's lastRead, from which the portal's lists count unread messages.
 */

/** Unread counts stop here; a portal shows "99+" beyond it. */
export const UNREAD_COUNT_CAP = 100;


export class ReadMarkers {
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
    private readonly live: LiveEventPublisher,
  ) {}

  /** Marks the conversation read up to `messageId` for `actor`. */
  async markRead(conversation: Conversation, actor: Actor, messageId: string): Promise<{ messageId: string; readAt: string }> {
    const { roomId, userId: reader } = await this.conversations.rooms.enterRoom(conversation, actor);
    const event = await this.api.getEvent(roomId, messageId, reader);
    if (!event || event.type !== 'm.room.message') throw new NotFoundError('message');
    await this.api.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/read_markers`, {
      asUser: reader,
      body: { 'm.fully_read': messageId, 'm.read': messageId },
    });
    const readAt = new Date(event.origin_server_ts);
    if (await moveReadMarker(conversation._id, actor, messageId, readAt)) {
      await this.live.chatRead(conversation, { participant: { kind: actor.kind, id: actor.id }, messageId, readAt: readAt.toISOString() });
    }
    if (actor.kind === 'admin') {
      // Reading a support chat also settles the notifications about the messages just read.
      await AdminNotificationModel.updateMany(
        { networkId: actor.networkId, adminId: actor.id, chatId: conversation._id, at: { $lte: readAt }, readAt: null },
        { $set: { readAt: new Date() } },
      );
    }
    return { messageId, readAt: readAt.toISOString() };
  }

  /**
   * Unread messages per conversation for `actor`: others' messages after their read marker, counted
   * in the conversation index (messageIndex.ts), capped at UNREAD_COUNT_CAP. No Matrix call.
   */
  async unreadCounts(conversations: readonly Conversation[], actor: Actor, preloaded?: Map<string, ReadMarkerDoc | null>): Promise<Map<string, number>> {
    const me = this.conversations.rooms.matrixUserOf(actor);
    const markers = preloaded ?? (await this.markersOf(conversations.map((c) => c._id), actor));
    const counts = await Promise.all(
      conversations.map(async (c) => {
        const marker = markers.get(c._id) ?? null;
        const readAt = marker?.readAt ?? null;
        const readAtMs = readAt ? readAt.getTime() : -1;
        const revision = c.revision ?? 0;
        const cached = marker?.unreadCache;
        if (cached && cached.revision === revision && cached.readAtMs === readAtMs && typeof cached.count === 'number') {
          return [c._id, cached.count] as const;
        }
        const count = await countUnread(c._id, me, readAt, UNREAD_COUNT_CAP);
        await ReadMarkerModel.updateOne({ _id: readMarkerId(c._id, actor) }, { $set: { chatId: c._id, unreadCache: { revision, readAtMs, count } } }, { upsert: true, timestamps: false }).catch((err) => {
          // A marker written at the same moment won the insert; the count is simply not cached.
          if ((err as { code?: number }).code !== 11000) throw err;
        });
        return [c._id, count] as const;
      }),
    );
    return new Map(counts);
  }

  /**
   * How far each participant has read the conversation ("seen"): the customers, and for a support
   * conversation its active administrators; participants who have read nothing are left out.
   */
  async markersOfChat(conversation: Conversation): Promise<Array<{ participant: { kind: 'customer' | 'admin'; id: string }; messageId: string; readAt: string | null }>> {
    const participants: Array<{ kind: 'customer' | 'admin'; id: string }> = conversation.customerIds.map((id) => ({ kind: 'customer', id }));
    if (conversation.kind === 'support') for (const a of await activeAdministrators(conversation.networkId)) participants.push({ kind: 'admin', id: a.adminId });
    const ids = participants.map((p) => readMarkerId(conversation._id, p));
    const markers = await findByIds<ReadMarkerDoc>(ReadMarkerModel, ids);
    return participants.flatMap((participant, i) => {
      const m = markers.get(ids[i]!);
      return m?.eventId ? [{ participant, messageId: m.eventId, readAt: m.readAt ? new Date(m.readAt).toISOString() : null }] : [];
    });
  }

  /**
   * The actor's unread count right after one new message was indexed (the conversation's revision
   * moved by one): from the count cached for the revision before, plus one when someone else sent
   * it, so announcing chat.updated costs a marker read and write, not a count over the index (a
   * scan of the whole collection on FerretDB). Anything else (no cache, a marker that moved, more
   * than one change since) counts as unreadCounts does.
   */
  async unreadCountAfterNewMessage(conversation: Conversation, actor: Actor, senderMatrixId: string): Promise<number> {
    const id = readMarkerId(conversation._id, actor);
    const marker = await ReadMarkerModel.findById(id).lean<ReadMarkerDoc>();
    const revision = conversation.revision ?? 0;
    const readAtMs = marker?.readAt ? marker.readAt.getTime() : -1;
    const cached = marker?.unreadCache;
    if (!cached || cached.revision !== revision - 1 || cached.readAtMs !== readAtMs || typeof cached.count !== 'number') {
      return (await this.unreadCounts([conversation], actor, new Map([[conversation._id, marker ?? null]]))).get(conversation._id) ?? 0;
    }
    const mine = senderMatrixId === this.conversations.rooms.matrixUserOf(actor);
    const count = Math.min(UNREAD_COUNT_CAP, cached.count + (mine ? 0 : 1));
    // By `_id` alone (FerretDB serves no other filter from an index); a list counting at the same
    // moment writes the same count for the same revision.
    await ReadMarkerModel.updateOne({ _id: id }, { $set: { unreadCache: { revision, readAtMs, count } } }, { timestamps: false });
    return count;
  }

  /** The actor's markers of these conversations, in one query by `_id`. */
  async markersOf(chatIds: readonly string[], actor: Actor): Promise<Map<string, ReadMarkerDoc | null>> {
    const markers = await findByIds<ReadMarkerDoc>(ReadMarkerModel, chatIds.map((id) => readMarkerId(id, actor)));
    return new Map(chatIds.map((id) => [id, markers.get(readMarkerId(id, actor)) ?? null]));
  }
}

/**
 * Moves a participant's marker to a message, forward only; true when it moved. Read, then written;
 * two moves of one marker at the same moment can at worst leave the earlier of the two, which the
 * next read or receipt moves on.
 */
export async function moveReadMarker(chatId: string, participant: Pick<Actor, 'kind' | 'id'>, eventId: string, readAt: Date): Promise<boolean> {
  const id = readMarkerId(chatId, participant);
  const current = await ReadMarkerModel.findById(id).select({ readAt: 1 }).lean();
  if (current?.readAt && current.readAt.getTime() >= readAt.getTime()) return false;
  return ReadMarkerModel.updateOne({ _id: id }, { $set: { chatId, eventId, readAt } }, { upsert: true }).then(
    () => true,
    (err) => {
      // Created by a concurrent writer between the two steps: that marker stands.
      if (!isDuplicateKey(err)) throw err;
      return false;
    },
  );
}
