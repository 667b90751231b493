import type { MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import { conversationIdOfRoom } from '../../store';
import { noteSupportActivity } from './supportInbox';
import { ConversationModel, IndexedMessageModel } from '../../store';

/**
 * The conversation index, fed from the events Synapse pushes: one entry per message (keyed by
 * event_id, so replaying an event after a crash changes nothing), redactions, and the last-message
 * preview of each conversation. Synapse stays the store of record; this is what lists and unread
 * counts read, so they never need a Matrix call.
 */

const PREVIEW_LENGTH = 200;

/** What the index learned about the message's conversation, for the handlers that follow. */
export interface IndexedConversation {
  _id: string;
  networkId: string;
  kind: 'direct' | 'support';
  customerIds: string[];
}

/** Adds a message event to the index; returns its conversation, or null when the room is not ours. */
export async function indexMessage(event: MatrixEvent, domain: string): Promise<IndexedConversation | null> {
  const chatId = await conversationIdOfRoom(event.room_id);
  if (!chatId) return null;
  const content = event.content ?? {};
  const body = typeof content.body === 'string' ? content.body : '';
  const at = new Date(event.origin_server_ts);
  const redacted = Boolean(event.unsigned?.redacted_because);
  await IndexedMessageModel.updateOne(
    { _id: event.event_id },
    {
      $setOnInsert: {
        chatId,
        roomId: event.room_id,
        senderMatrixId: event.sender,
        sentAt: at,
        msgtype: String(content.msgtype ?? 'm.text'),
        preview: body.slice(0, PREVIEW_LENGTH),
        ...(typeof content.url === 'string' ? { mediaUrl: content.url } : {}),
        redacted,
      },
    },
    { upsert: true },
  );
  // Events of one room are applied one after the other (transactionProcessor.ts), so reading and
  // then writing cannot interleave.
  const conversation = await ConversationModel.findById(chatId).select({ networkId: 1, kind: 1, customerIds: 1, lastMessage: 1 }).lean();
  if (!conversation) return null;
  const previous = conversation.lastMessage?.at ? new Date(conversation.lastMessage.at).getTime() : null;
  // Only moves forward: replaying an older event leaves the newer preview in place.
  const forward = !redacted && (previous === null || previous <= at.getTime());
  const sender = parseVirtualUserId(event.sender, domain);
  // The revision moves after the message is stored: an unread count cached for the old revision
  // (readMarkers.ts) is counted again.
  await ConversationModel.updateOne(
    { _id: chatId },
    forward
      ? {
          $set: {
            lastActivityAt: at,
            lastMessage: { eventId: event.event_id, senderId: sender?.id ?? null, body: body.slice(0, PREVIEW_LENGTH), at },
          },
          $inc: { revision: 1 },
        }
      : { $inc: { revision: 1 } },
  );
  // Also on a replay (equal times count as forward): a crash between the two writes is repaired.
  if (forward && conversation.kind === 'support') await noteSupportActivity(conversation.networkId, chatId, at, conversation.customerIds);
  return { _id: chatId, networkId: conversation.networkId, kind: conversation.kind, customerIds: conversation.customerIds };
}

/** The event a redaction removes: `content.redacts` from room version 11, top-level `redacts` before. */
export function redactionTarget(event: MatrixEvent): string | null {
  const fromContent = event.content?.redacts;
  if (typeof fromContent === 'string') return fromContent;
  return typeof event.redacts === 'string' ? event.redacts : null;
}

/**
 * Applies a redaction: the message leaves previews and unread counts. When it was the last message,
 * the preview falls back to the newest message still standing. Returns the message's conversation
 * when the redaction applied, else null.
 */
export async function indexRedaction(event: MatrixEvent, domain: string): Promise<string | null> {
  const target = redactionTarget(event);
  if (!target) return null;
  const found = await IndexedMessageModel.findById(target).select({ roomId: 1, senderMatrixId: 1 }).lean();
  // Applied only where Synapse applies it: in the message's own room, by its sender — or by the
  // service (participants have no power to redact others' messages; anyone else in our rooms is
  // the service). A redaction naming another room's event, or a participant's redaction of
  // someone else's message, leaves the index as it is.
  if (!found || found.roomId !== event.room_id) return null;
  if (event.sender !== found.senderMatrixId && parseVirtualUserId(event.sender, domain)) return null;
  const message = await IndexedMessageModel.findOneAndUpdate({ _id: target }, { $set: { redacted: true } }).lean();
  if (!message) return null;
  // No projection: FerretDB does not implement one on findAndModify.
  const conversation = await ConversationModel.findByIdAndUpdate(message.chatId, { $inc: { revision: 1 } }).lean();
  if (conversation?.lastMessage?.eventId !== target) return message.chatId;
  const previous = await IndexedMessageModel.findOne({ chatId: message.chatId, redacted: false }).sort({ sentAt: -1 }).lean();
  // The check above holds because a room's events are applied one at a time.
  await ConversationModel.updateOne(
    { _id: message.chatId },
    previous
      ? {
          $set: {
            lastMessage: {
              eventId: previous._id,
              senderId: parseVirtualUserId(previous.senderMatrixId, domain)?.id ?? null,
              body: previous.preview,
              at: previous.sentAt,
            },
          },
        }
      : { $unset: { lastMessage: 1 } },
  );
  return message.chatId;
}

/** Unread messages of one participant: others' messages after their read marker, capped. */
export async function countUnread(chatId: string, readerMatrixId: string, readAt: Date | null, cap: number): Promise<number> {
  return IndexedMessageModel.countDocuments(
    {
      chatId,
      redacted: false,
      senderMatrixId: { $ne: readerMatrixId },
      ...(readAt ? { sentAt: { $gt: readAt } } : {}),
    },
    { limit: cap },
  );
}
