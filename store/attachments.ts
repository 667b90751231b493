import mongoose, { Schema } from 'mongoose';

const attachmentSchema = new Schema(
  {
    /** `<chatId>|<mediaId>`: a media id is only reachable through a conversation that references it. */
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    serverName: { type: String, required: true },
    mediaId: { type: String, required: true },
    messageId: { type: String, required: true },
    name: { type: String, required: true },
    mimeType: { type: String },
    size: { type: Number },
  },
  { timestamps: true, versionKey: false },
);

export const AttachmentModel = mongoose.model('Attachment', attachmentSchema, 'attachments');

/**
 * One attachment send per (conversation, sender, client txnId). Claimed before the upload, so two
 * concurrent requests with the same txnId upload the file once; the second waits for the first.
 */
const attachmentSendSchema = new Schema(
  {
    /** `<chatId>|<sender>|<txnId>` */
    _id: { type: String, required: true },
    claimedAt: { type: Date, required: true },
    messageId: { type: String },
    mediaId: { type: String },
  },
  { versionKey: false },
);

export const AttachmentSendModel = mongoose.model('AttachmentSend', attachmentSendSchema, 'attachment_sends');
