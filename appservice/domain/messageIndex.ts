import type { MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import { addToReactionSet, conversationIdOfRoom, ConversationModel, IndexedMessageModel, MessageEditModel, MessageReactionModel, removeFromReactionSet, takeReactionSet } from '../../store';
import { noteSupportActivity } from './supportInbox';
import { followEditedMessage } from './adminNotifications';
import { displayBody, isTextMsgtype, isValidReactionKey, relationOf } from './messageRelations';
import type { RedactionRules } from './redactionRules';
import type { Conversation } from './conversation';

/**
 * The conversation index, fed from the events Synapse pushes: one entry per message (keyed by
 * event_id, so replaying an event after a crash changes nothing), its accepted edits and reactions
 * (message_edits, message_reactions: one document per event), redactions, and the last-message
 * preview of each conversation. Synapse stays the store of record; this is what lists and unread
 * counts read, so they never need a Matrix call.
 */

const PREVIEW_LENGTH = 200;

/**
 * What an indexed event changed, for whoever tells portals about it (the live event stream:
 * `message.created`, `message.updated` for an edit or a reaction, `message.deleted` for an
 * unsend; `lastMessageChanged`: the conversation's preview moved too). Every index function that
 * changes what a message shows returns one; null when nothing changed.
 */
export interface MessageIndexChange {
  type: 'message.created' | 'message.updated' | 'message.deleted';
  chatId: string;
  messageId: string;
  lastMessageChanged: boolean;
}

/** A redaction the index applied: what changed, and for an unsent message the edits it had. */
export interface IndexedRedaction {
  change: MessageIndexChange;
  /** Edits of the unsent message the index had accepted (Synapse no longer lists them once it is redacted). */
  unsentEditIds: string[];
  /** The unsent message's network (its administrators' notifications about it lose their preview); null otherwise. */
  networkId: string | null;
}

/** What the index learned about the message's conversation, for the handlers that follow. */
export type IndexedConversation = Pick<Conversation, '_id' | 'networkId' | 'kind' | 'customerIds'>;

/**
 * Adds a new message (not an edit: indexEdit) to the index; returns its conversation (as the
 * write left it) and the change, or null when the room is not ours. A reply's preview leaves out its quoted fallback.
 */
export async function indexMessage(event: MatrixEvent, domain: string): Promise<{ conversation: Conversation; change: MessageIndexChange } | null> {
  const chatId = await conversationIdOfRoom(event.room_id);
  if (!chatId) return null;
  const content = event.content ?? {};
  const body = typeof content.body === 'string' ? displayBody(content.body, relationOf(event.type, content)) : '';
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
  // One write per message, which also answers with the conversation as it now is (its preview and
  // revision included, for the live announcement that follows). The preview only moves forward:
  // replaying an older event leaves the newer preview in place. The revision moves after the
  // message is stored: an unread count cached for the old revision (readMarkers.ts) is counted again.
  const sender = parseVirtualUserId(event.sender, domain);
  const moved = redacted
    ? null
    : await ConversationModel.findOneAndUpdate(
        { _id: chatId, $or: [{ 'lastMessage.at': null }, { 'lastMessage.at': { $lte: at } }] },
        {
          $set: { lastActivityAt: at, lastMessage: { eventId: event.event_id, senderId: sender?.id ?? null, body: body.slice(0, PREVIEW_LENGTH), at } },
          $inc: { revision: 1 },
        },
        { new: true },
      ).lean<Conversation>();
  const conversation = moved ?? (await ConversationModel.findOneAndUpdate({ _id: chatId }, { $inc: { revision: 1 } }, { new: true }).lean<Conversation>());
  if (!conversation) return null;
  const forward = moved !== null;
  // Also on a replay (equal times count as forward): a crash between the two writes is repaired.
  if (forward && conversation.kind === 'support') await noteSupportActivity(conversation.networkId, chatId, at, conversation.customerIds);
  return { conversation, change: { type: 'message.created', chatId, messageId: event.event_id, lastMessageChanged: forward } };
}

/**
 * Applies a redaction the way Synapse does (redactionRules.ts): to a message (it leaves previews
 * and unread counts, and takes its edits and reactions with it; when it was the last message, the
 * preview falls back to the newest message still standing), to an edit (the message shows its
 * newest remaining version) or to a reaction. Anything else, or a redaction Synapse would not
 * apply, leaves the index as it is.
 */
export async function indexRedaction(event: MatrixEvent, domain: string, rules: RedactionRules): Promise<IndexedRedaction | null> {
  // Rooms that are not conversations hold nothing of the index (and the bot may not be in them).
  if (!(await conversationIdOfRoom(event.room_id))) return null;
  const target = await rules.targetOf(event);
  if (!target) return null;
  const [message, edit, reaction] = await Promise.all([
    IndexedMessageModel.findById(target).select({ roomId: 1, senderMatrixId: 1, chatId: 1 }).lean(),
    MessageEditModel.findById(target).lean(),
    MessageReactionModel.findById(target).lean(),
  ]);
  if (message) return (await rules.applies(event, message)) ? removeMessage(target, domain) : null;
  const changed = await removeRelated(event, target, rules, edit, reaction);
  return changed ? { change: changed, unsentEditIds: [], networkId: null } : null;
}

/** A redaction of an edit (the message shows its newest remaining version) or of a reaction. */
async function removeRelated(
  event: MatrixEvent,
  target: string,
  rules: RedactionRules,
  edit: { messageId: string; roomId: string; senderMatrixId: string } | null,
  reaction: { messageId: string; chatId: string; roomId: string; senderMatrixId: string } | null,
): Promise<MessageIndexChange | null> {
  if (edit) {
    if (!(await rules.applies(event, edit))) return null;
    await MessageEditModel.deleteOne({ _id: target });
    const edited = await IndexedMessageModel.findById(edit.messageId).lean();
    if (!edited || edited.redacted || edited.editEventId !== target) return null;
    const newest = await MessageEditModel.findOne({ messageId: edit.messageId }).sort({ at: -1, _id: -1 }).lean();
    return showVersion(edited, newest ? { eventId: newest._id, preview: newest.preview, at: newest.at } : null);
  }
  if (reaction) {
    if (!(await rules.applies(event, reaction))) return null;
    await MessageReactionModel.deleteOne({ _id: target });
    await removeFromReactionSet(reaction.messageId, target);
    return { type: 'message.updated', chatId: reaction.chatId, messageId: reaction.messageId, lastMessageChanged: false };
  }
  return null;
}

async function removeMessage(target: string, domain: string): Promise<IndexedRedaction | null> {
  const message = await IndexedMessageModel.findOneAndUpdate({ _id: target }, { $set: { redacted: true } }).lean();
  if (!message) return null;
  // An unsent message takes its edits and reactions with it.
  const unsentEditIds = (await MessageEditModel.find({ messageId: target }).select({ _id: 1 }).lean()).map((e) => e._id);
  const reactionIds = await takeReactionSet(target);
  await Promise.all([MessageEditModel.deleteMany({ messageId: target }), reactionIds.length ? MessageReactionModel.deleteMany({ _id: { $in: reactionIds } }) : undefined]);
  // No projection: FerretDB does not implement one on findAndModify.
  const conversation = await ConversationModel.findByIdAndUpdate(message.chatId, { $inc: { revision: 1 } }).lean();
  const change: MessageIndexChange = { type: 'message.deleted', chatId: message.chatId, messageId: target, lastMessageChanged: false };
  const networkId = conversation?.networkId ?? null;
  if (conversation?.lastMessage?.eventId !== target) return { change, unsentEditIds, networkId };
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
  return { change: { ...change, lastMessageChanged: true }, unsentEditIds, networkId };
}

/**
 * Adds an edit (`m.replace`) to the index. It counts only as Synapse counts it (same room, same
 * sender as the message) and only for a text message still standing, with text as its new
 * content; anyone else's "edit" is ignored. An edit is no new message: nothing is unread, the
 * conversation's activity does not move, and its preview changes only when the edited message is
 * the last one.
 */
export async function indexEdit(event: MatrixEvent, edit: { targetId: string; newBody: string | null }): Promise<MessageIndexChange | null> {
  if (edit.newBody === null) return null;
  const original = await IndexedMessageModel.findById(edit.targetId).lean();
  if (!original || original.redacted || original.roomId !== event.room_id || original.senderMatrixId !== event.sender || !isTextMsgtype(original.msgtype)) return null;
  const version = { eventId: event.event_id, preview: edit.newBody.slice(0, PREVIEW_LENGTH), at: new Date(event.origin_server_ts) };
  await MessageEditModel.updateOne(
    { _id: event.event_id },
    { $setOnInsert: { messageId: original._id, chatId: original.chatId, roomId: event.room_id, senderMatrixId: event.sender, preview: version.preview, at: version.at } },
    { upsert: true },
  );
  // The newest edit wins, as Synapse orders them: by time, then by event id.
  const current = original.editedAt ? { at: new Date(original.editedAt).getTime(), id: original.editEventId ?? '' } : null;
  if (current && (current.at > version.at.getTime() || (current.at === version.at.getTime() && current.id > version.eventId))) return null;
  return showVersion(original, version);
}

/** Shows `version` (null: the original text) as a message's current text, in its entry and the preview. */
async function showVersion(
  message: { _id: string; chatId: string; preview?: string | null; originalPreview?: string | null },
  version: { eventId: string; preview: string; at: Date } | null,
): Promise<MessageIndexChange> {
  const original = message.originalPreview ?? message.preview ?? '';
  const preview = version ? version.preview : original;
  await IndexedMessageModel.updateOne(
    { _id: message._id },
    version
      ? { $set: { preview, editedAt: version.at, editEventId: version.eventId, originalPreview: original } }
      : { $set: { preview }, $unset: { editedAt: 1, editEventId: 1, originalPreview: 1 } },
  );
  const moved = await ConversationModel.updateOne({ _id: message.chatId, 'lastMessage.eventId': message._id }, { $set: { 'lastMessage.body': preview } });
  // Only support conversations notify administrators (adminNotifications.ts).
  const conversation = await ConversationModel.findById(message.chatId).select({ kind: 1, networkId: 1 }).lean();
  if (conversation?.kind === 'support') await followEditedMessage(conversation.networkId, message._id, preview);
  return { type: 'message.updated', chatId: message.chatId, messageId: message._id, lastMessageChanged: moved.matchedCount > 0 };
}

/**
 * Adds a reaction (`m.annotation`) to the index: to a message of the same room still standing,
 * with a key the portal accepts (messageRelations.isValidReactionKey).
 */
export async function indexReaction(event: MatrixEvent, reaction: { targetId: string; key: string }): Promise<MessageIndexChange | null> {
  if (!isValidReactionKey(reaction.key)) return null;
  const message = await IndexedMessageModel.findById(reaction.targetId).select({ roomId: 1, chatId: 1, redacted: 1 }).lean();
  if (!message || message.redacted || message.roomId !== event.room_id) return null;
  await MessageReactionModel.updateOne(
    { _id: event.event_id },
    {
      $setOnInsert: {
        messageId: message._id,
        chatId: message.chatId,
        roomId: event.room_id,
        senderMatrixId: event.sender,
        key: reaction.key,
        at: new Date(event.origin_server_ts),
      },
    },
    { upsert: true },
  );
  await addToReactionSet(message._id, message.chatId, { eventId: event.event_id, key: reaction.key, senderMatrixId: event.sender });
  return { type: 'message.updated', chatId: message.chatId, messageId: message._id, lastMessageChanged: false };
}

/** When a participant has read up to an edit or a reaction: its conversation and time. */
export async function relatedEventPosition(eventId: string): Promise<{ chatId: string; at: Date } | null> {
  const [edit, reaction] = await Promise.all([MessageEditModel.findById(eventId).lean(), MessageReactionModel.findById(eventId).lean()]);
  const found = edit ?? reaction;
  return found ? { chatId: found.chatId, at: found.at } : null;
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
