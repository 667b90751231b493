import mongoose, { Schema } from 'mongoose';

/**
 * Reactions (`m.annotation`) the conversation index accepted: one document per reaction event,
 * written once and removed when the reaction is redacted (or its message unsent), so concurrent
 * reactions never update one shared document (FerretDB 1.24 applies updates as read, change,
 * write back). Each is also in its message's set (messageReactionSets.ts), which is what history
 * pages read; these documents answer "what did this redaction redact".
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
