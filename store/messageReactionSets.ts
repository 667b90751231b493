import mongoose, { Schema } from 'mongoose';

/**
 * The reactions standing on one message, by the message's event id: what a history page reads, in
 * one query by `_id` for all its messages (message_reactions, one document per reaction event, can
 * only be searched by message by decoding the whole collection on FerretDB). Only messages with
 * reactions have one, so a page without reactions costs index probes only. Written by the
 * appservice's lane of the message's room alone, one event after another, so FerretDB's
 * read-change-write of an update never meets a second writer here.
 */
const messageReactionSetSchema = new Schema(
  {
    /** The message's event id. */
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    /** In the order they were indexed. */
    reactions: {
      type: [{ _id: false, eventId: { type: String, required: true }, key: { type: String, required: true }, senderMatrixId: { type: String, required: true } }],
      required: true,
    },
  },
  { versionKey: false },
);

export const MessageReactionSetModel = mongoose.model('MessageReactionSet', messageReactionSetSchema, 'message_reaction_sets');

/**
 * Per conversation, which of its messages have a reaction set: a history page reads this one
 * document beside its Synapse call and then looks up only the sets of its messages listed here
 * (none, for most pages), instead of probing a set for every message after Synapse answered. Always
 * a superset of the messages with a set: a message is listed before its first set is written and
 * taken off after its set is gone, so a crash in between leaves at most a listed message without a
 * set. Past REACTION_MARKS_LIMIT messages the list is dropped for `overflow: true`, and that
 * conversation's pages probe every message as before. Written by the same lane as the sets.
 */
const conversationReactionMarksSchema = new Schema(
  {
    /** The conversation's id. */
    _id: { type: String, required: true },
    messageIds: { type: [String], default: [] },
    overflow: { type: Boolean, default: false },
  },
  { versionKey: false },
);

export const ConversationReactionMarksModel = mongoose.model('ConversationReactionMarks', conversationReactionMarksSchema, 'conversation_reaction_marks');

/** How many reacted messages a conversation's marks list before it falls back to probing every message. */
export const REACTION_MARKS_LIMIT = 5000;

/** The messages of a conversation that may have reactions: a set of ids, or 'all' (too many to list). */
export async function reactedMessagesOf(chatId: string): Promise<ReadonlySet<string> | 'all'> {
  const marks = await ConversationReactionMarksModel.findById(chatId).lean<{ messageIds: string[]; overflow?: boolean }>();
  if (marks?.overflow) return 'all';
  return new Set(marks?.messageIds ?? []);
}

async function markReacted(chatId: string, messageId: string): Promise<void> {
  const marks = await ConversationReactionMarksModel.findById(chatId).lean<{ messageIds: string[]; overflow?: boolean }>();
  if (marks?.overflow || marks?.messageIds.includes(messageId)) return;
  const messageIds = [...(marks?.messageIds ?? []), messageId];
  const update = messageIds.length > REACTION_MARKS_LIMIT ? { messageIds: [], overflow: true } : { messageIds };
  await ConversationReactionMarksModel.updateOne({ _id: chatId }, { $set: update }, { upsert: true });
}

async function unmarkReacted(chatId: string, messageId: string): Promise<void> {
  const marks = await ConversationReactionMarksModel.findById(chatId).lean<{ messageIds: string[]; overflow?: boolean }>();
  if (!marks || marks.overflow || !marks.messageIds.includes(messageId)) return;
  await ConversationReactionMarksModel.updateOne({ _id: chatId }, { $set: { messageIds: marks.messageIds.filter((id) => id !== messageId) } });
}

export interface StandingReaction {
  eventId: string;
  key: string;
  senderMatrixId: string;
}

/** Adds a reaction to its message's set (once: a reaction indexed again changes nothing). */
export async function addToReactionSet(messageId: string, chatId: string, reaction: StandingReaction): Promise<void> {
  const set = await MessageReactionSetModel.findById(messageId).lean<{ reactions: StandingReaction[] }>();
  if (set?.reactions.some((r) => r.eventId === reaction.eventId)) return;
  if (!set) await markReacted(chatId, messageId);
  await MessageReactionSetModel.updateOne({ _id: messageId }, { $set: { chatId, reactions: [...(set?.reactions ?? []), reaction] } }, { upsert: true });
}

/** Takes a redacted reaction out of its message's set; the set goes with its last reaction. */
export async function removeFromReactionSet(messageId: string, reactionId: string): Promise<void> {
  const set = await MessageReactionSetModel.findById(messageId).lean<{ chatId: string; reactions: StandingReaction[] }>();
  if (!set?.reactions.some((r) => r.eventId === reactionId)) return;
  const rest = set.reactions.filter((r) => r.eventId !== reactionId);
  if (rest.length === 0) {
    await MessageReactionSetModel.deleteOne({ _id: messageId });
    await unmarkReacted(set.chatId, messageId);
  } else await MessageReactionSetModel.updateOne({ _id: messageId }, { $set: { reactions: rest } });
}

/** An unsent message's set, removed; returns the reaction event ids it held. */
export async function takeReactionSet(messageId: string): Promise<string[]> {
  const set = await MessageReactionSetModel.findOneAndDelete({ _id: messageId }).lean<{ chatId: string; reactions: StandingReaction[] }>();
  if (set) await unmarkReacted(set.chatId, messageId);
  return (set?.reactions ?? []).map((r) => r.eventId);
}
