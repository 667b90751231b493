import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const conversationSchema = new Schema(
  {
    /** conversationIdForKey(key) (entityIds.ts): a conversation is found by `_id`, never by key. */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    kind: { type: String, enum: ['direct', 'support'], required: true },
    /**
     * direct: "direct/<network>/<a>/<b>" with a < b; support: "support/<network>/<customer>".
     * The unique index makes a second conversation for the same pair impossible, even under races.
     */
    key: { type: String, required: true, unique: true },
    customerIds: { type: [String], required: true },
    /** Who started it: a customer id, or "admin:<id>". Rule 5's exception reads it. */
    startedBy: { type: String, required: true },
    roomId: { type: String },
    lastActivityAt: { type: Date, required: true },
    /** Bumped by every message and redaction the index applies: cached unread counts key on it. */
    revision: { type: Number, default: 0 },
    lastMessage: {
      eventId: String,
      senderId: String,
      body: String,
      at: Date,
    },
  },
  { timestamps: true, versionKey: false },
);
conversationSchema.index({ networkId: 1, customerIds: 1, lastActivityAt: -1 });
conversationSchema.index({ networkId: 1, kind: 1, lastActivityAt: -1 });
conversationSchema.index({ roomId: 1 });
export const ConversationModel = mongoose.model('Conversation', conversationSchema, 'conversations');
export type ConversationDoc = InferSchemaType<typeof conversationSchema>;
