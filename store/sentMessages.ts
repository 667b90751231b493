import mongoose, { Schema } from 'mongoose';

/** A send made on someone's behalf: the client's txnId maps to exactly one Matrix event. */
const sentMessageSchema = new Schema(
  {
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    /** Missing while the send is in flight (or its answer was lost): a retry looks in the room first. */
    eventId: { type: String },
  },
  { timestamps: true, versionKey: false },
);

export const SentMessageModel = mongoose.model('SentMessage', sentMessageSchema, 'sent_messages');
