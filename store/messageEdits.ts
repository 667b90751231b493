import mongoose, { Schema } from 'mongoose';

/**
 * Edits (`m.replace`) the conversation index accepted: one document per edit event, written once
 * and removed when the edit is redacted, so no document is ever read, changed and written back
 * (FerretDB 1.24 applies updates that way). The edited message's current text is its newest edit
 * here (messageIndex.ts keeps it on the message's index entry).
 */
const messageEditSchema = new Schema(
  {
    /** The edit's event id. */
    _id: { type: String, required: true },
    /** The edited message's event id. */
    messageId: { type: String, required: true },
    chatId: { type: String, required: true },
    roomId: { type: String, required: true },
    senderMatrixId: { type: String, required: true },
    /** The new text, cut to the preview length. */
    preview: { type: String, default: '' },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
messageEditSchema.index({ messageId: 1 });

export const MessageEditModel = mongoose.model('MessageEdit', messageEditSchema, 'message_edits');
