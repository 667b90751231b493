import mongoose, { Schema, type InferSchemaType } from 'mongoose';

/**
 * Each person's newest email window (emailDigests.ts), found by `_id` (the person's
 * notificationSettingsId): the appservice asks "is a window open for this recipient?" for every
 * message, and FerretDB serves only `_id` lookups from an index. Written only by the appservice,
 * whose events of one network are applied one at a time.
 */
const emailDigestHeadSchema = new Schema(
  {
    _id: { type: String, required: true },
    digestId: { type: String, required: true },
  },
  { timestamps: true, versionKey: false },
);

export const EmailDigestHeadModel = mongoose.model('EmailDigestHead', emailDigestHeadSchema, 'email_digest_heads');
export type EmailDigestHeadDoc = InferSchemaType<typeof emailDigestHeadSchema> & { _id: string };
