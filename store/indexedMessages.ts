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
  },
  { versionKey: false },
);
indexedMessageSchema.index({ chatId: 1, sentAt: -1 });

export const IndexedMessageModel = mongoose.model('IndexedMessage', indexedMessageSchema, 'indexed_messages');
