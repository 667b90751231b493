import mongoose, { Schema } from 'mongoose';

/**
 * Reactions (`m.annotation`) the conversation index accepted: one document per reaction event,
 * written once and removed when the reaction is redacted (or its message unsent), so concurrent
 * reactions never update one shared document (FerretDB 1.24 applies updates as read, change,
 * write back). History pages aggregate them per key (messageHistory.ts).
 */
const messageReactionSchema = new Schema(
  {
    /** The reaction's event id. */
    _id: { type: String, required: true },
    /** The message reacted to. */
    messageId: { type: String, required: true },
    chatId: { type: String, required: true },
    roomId: { type: String, required: true },
    senderMatrixId: { type: String, required: true },
    key: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
messageReactionSchema.index({ messageId: 1 });

export const MessageReactionModel = mongoose.model('MessageReaction', messageReactionSchema, 'message_reactions');

/** The reactions of some messages (a history page), oldest first. */
export async function reactionsOfMessages(messageIds: readonly string[]): Promise<Array<{ messageId: string; key: string; senderMatrixId: string }>> {
  if (messageIds.length === 0) return [];
  return MessageReactionModel.find({ messageId: { $in: [...messageIds] } })
    .select({ messageId: 1, key: 1, senderMatrixId: 1, at: 1 })
    .sort({ at: 1, _id: 1 })
    .lean();
}
