import mongoose, { Schema } from 'mongoose';
import { NotFoundError } from '../errors';
import type { MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';
import { AdminNotificationModel } from './adminNotifications';
import { countUnread } from './messageIndex';

/**
 * Read markers: how far each participant has read a conversation. Matrix gets an m.read receipt and
 * an m.fully_read marker from the reader's virtual user (so Matrix clients agree), and MongoDB keeps
 * the participant's lastRead, from which the portal's lists count unread messages.
 */

/** Unread counts stop here; a portal shows "99+" beyond it. */
export const UNREAD_COUNT_CAP = 100;

const readMarkerSchema = new Schema(
  {
    /** `<chatId>|<customer|admin>:<id>` */
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    eventId: { type: String, required: true },
    /** origin_server_ts of the marked message: markers only move forward. */
    readAt: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);

export const ReadMarkerModel = mongoose.model('ReadMarker', readMarkerSchema, 'read_markers');

export class ReadMarkers {
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
  ) {}

  /** Marks the conversation read up to `messageId` for `actor`. */
  async markRead(conversation: Conversation, actor: Actor, messageId: string): Promise<{ messageId: string; readAt: string }> {
    const room = await this.conversations.ensureRoom(conversation);
    const reader = this.conversations.matrixUserOf(actor);
    if (actor.kind === 'admin') await this.conversations.ensureJoined(room.roomId, reader);
    const event = await this.api.getEvent(room.roomId, messageId, reader);
    if (!event || event.type !== 'm.room.message') throw new NotFoundError('message');
    await this.api.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(room.roomId)}/read_markers`, {
      asUser: reader,
      body: { 'm.fully_read': messageId, 'm.read': messageId },
    });
    const readAt = new Date(event.origin_server_ts);
    await ReadMarkerModel.updateOne(
      { _id: markerId(conversation._id, actor), $or: [{ readAt: { $lt: readAt } }, { readAt: { $exists: false } }] },
      { $set: { chatId: conversation._id, eventId: messageId, readAt } },
      { upsert: true },
    ).catch((err) => {
      // A newer marker already exists: the upsert's filter did not match it and the insert collided.
      if ((err as { code?: number }).code !== 11000) throw err;
    });
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
  async unreadCounts(conversations: readonly Conversation[], actor: Actor): Promise<Map<string, number>> {
    const markers = await ReadMarkerModel.find({ _id: { $in: conversations.map((c) => markerId(c._id, actor)) } }).lean();
    const readAt = new Map(markers.map((m) => [m.chatId, m.readAt]));
    const me = this.conversations.matrixUserOf(actor);
    const counts = await Promise.all(
      conversations.map(async (c) => [c._id, await countUnread(c._id, me, readAt.get(c._id) ?? null, UNREAD_COUNT_CAP)] as const),
    );
    return new Map(counts);
  }
}

function markerId(chatId: string, actor: Actor): string {
  return `${chatId}|${actor.kind}:${actor.id}`;
}
