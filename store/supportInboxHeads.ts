import mongoose, { Schema } from 'mongoose';

const inboxHeadSchema = new Schema(
  {
    /** The network id. */
    _id: { type: String, required: true },
    entries: {
      type: [{ _id: false, chatId: { type: String, required: true }, at: { type: Date, required: true }, customerIds: { type: [String], default: undefined } }],
      default: [],
    },
    /** True while the head holds every support conversation of the network. */
    complete: { type: Boolean, required: true },
    version: { type: Number, required: true },
  },
  { versionKey: false },
);

export const SupportInboxHeadModel = mongoose.model('SupportInboxHead', inboxHeadSchema, 'support_inbox_heads');
