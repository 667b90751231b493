import mongoose, { Schema } from 'mongoose';

const indexedMessageSchema = new Schema(
  {
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    roomId: { type: String, required: true },
    senderMatrixId: { type: String, required: true },
    sentAt: { type: Date, required: true },
    msgtype: { type: String, required: true },
    preview: { type: String, default: '' },
    /** mxc:// URI of an attachment. */
    mediaUrl: { type: String },
    redacted: { type: Boolean, default: false },
    /** The newest accepted edit (message_edits): its time and event id. `preview` is its text then. */
    editedAt: { type: Date },
    editEventId: { type: String },
    /** The message's own text while an edit is shown (to fall back to when every edit is redacted). */
    originalPreview: { type: String },
  },
  { versionKey: false },
);
indexedMessageSchema.index({ chatId: 1, sentAt: -1 });

export const IndexedMessageModel = mongoose.model('IndexedMessage', indexedMessageSchema, 'indexed_messages');
