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

export interface StandingReaction {
  eventId: string;
  key: string;
  senderMatrixId: string;
}

/** Adds a reaction to its message's set (once: a reaction indexed again changes nothing). */
export async function addToReactionSet(messageId: string, chatId: string, reaction: StandingReaction): Promise<void> {
  const set = await MessageReactionSetModel.findById(messageId).lean<{ reactions: StandingReaction[] }>();
  if (set?.reactions.some((r) => r.eventId === reaction.eventId)) return;
  await MessageReactionSetModel.updateOne({ _id: messageId }, { $set: { chatId, reactions: [...(set?.reactions ?? []), reaction] } }, { upsert: true });
}

/** Takes a redacted reaction out of its message's set; the set goes with its last reaction. */
export async function removeFromReactionSet(messageId: string, reactionId: string): Promise<void> {
  const set = await MessageReactionSetModel.findById(messageId).lean<{ reactions: StandingReaction[] }>();
  if (!set?.reactions.some((r) => r.eventId === reactionId)) return;
  const rest = set.reactions.filter((r) => r.eventId !== reactionId);
  if (rest.length === 0) await MessageReactionSetModel.deleteOne({ _id: messageId });
  else await MessageReactionSetModel.updateOne({ _id: messageId }, { $set: { reactions: rest } });
}

/** An unsent message's set, removed; returns the reaction event ids it held. */
export async function takeReactionSet(messageId: string): Promise<string[]> {
  const set = await MessageReactionSetModel.findOneAndDelete({ _id: messageId }).lean<{ reactions: StandingReaction[] }>();
  return (set?.reactions ?? []).map((r) => r.eventId);
}
