import mongoose, { Schema, type InferSchemaType } from 'mongoose';

/**
 * One batched notification email per person and window (appservice/domain/emailDigests.ts opens a
 * window at a person's first unread message; provisioning/jobs/emailDigests.ts sends it after
 * their delay). The document is also the send record that keeps a window from being emailed twice:
 *
 *   pending -> queued (a delayed BullMQ job, job id = window id) -> closing -> sending -> committing -> sent
 *                                                     closing -> nothing (all read meanwhile, muted, no address)
 *   closing found again by a retry (crash before SMTP, or SMTP refused): computed and tried again
 *   sending found again (the worker died before the message's final "."): nothing can have been
 *     delivered (an SMTP server delivers only a message ended by "."), computed and sent again
 *   committing found again (the worker died after the final "." was due): sent if the server's
 *     250 was recorded in Redis by then; otherwise the mail provider is asked by Message-ID
 *     (provisioning/jobs/smtpDeliveryLookup.ts): sent if it has it, sent again if not; with no
 *     lookup configured (or it unreachable on the last attempt) uncertain, not resent
 */
export const EMAIL_DIGEST_STATUSES = ['pending', 'queued', 'closing', 'sending', 'committing', 'sent', 'nothing', 'uncertain', 'failed'] as const;
export type EmailDigestStatus = (typeof EMAIL_DIGEST_STATUSES)[number];
/** A window still collecting messages: a new message joins it instead of opening another. */
export const OPEN_DIGEST_STATUSES: readonly EmailDigestStatus[] = ['pending', 'queued'];

const emailDigestSchema = new Schema(
  {
    /** emailDigestId(personKey, first message's event id): a replayed event finds its window again. */
    _id: { type: String, required: true },
    /** notificationSettingsId of the person (notificationSettings.ts). */
    personKey: { type: String, required: true },
    networkId: { type: String, required: true },
    personKind: { type: String, enum: ['customer', 'admin'], required: true },
    personId: { type: String, required: true },
    /** origin_server_ts of the message that opened the window: the email covers messages from here. */
    openedAt: { type: Date, required: true },
    /** The person's delay when the window opened; due at openedAt + delayMinutes. */
    delayMinutes: { type: Number, required: true },
    /** The conversations with messages in the window. */
    chatIds: { type: [String], default: [] },
    status: { type: String, enum: EMAIL_DIGEST_STATUSES, default: 'pending' },
    /** The previous window's closedAt: what it covered is not listed again. */
    coversAfter: { type: Date },
    /** Set when sending starts: the email covers messages up to here; later ones open a new window. */
    closedAt: { type: Date },
    /** Why a window closed without an email (status nothing). */
    nothingBecause: { type: String },
    attempts: { type: Number, default: 0 },
    lastError: { type: String },
    /** When the last attempt opened its SMTP transaction, and when its final "." was due (status committing). */
    sendingAt: { type: Date },
    committingAt: { type: Date },
    sentAt: { type: Date },
    /** ms from the final "." to the server's answer recorded (in Redis, see emailDigests.ts): the moment a crash leaves uncertain. */
    uncertainMs: { type: Number },
    /** The Message-ID (stable per window, recorded with the intent to send, before the SMTP exchange) of the email sent, and how many conversations and messages it listed. */
    emailMessageId: { type: String },
    /**
     * How a retry settled the window after finding it `committing` (the answer to its final "."
     * never recorded): `accepted-record` (the 250 was in Redis), `lookup-accepted` (the provider had
     * the message), `lookup-absent` (it had not: sent again), `uncertain` (nobody could tell).
     */
    committingResolvedBy: { type: String, enum: ['accepted-record', 'lookup-accepted', 'lookup-absent', 'uncertain'] },
    listedChats: { type: Number },
    listedMessages: { type: Number },
  },
  { timestamps: true, versionKey: false },
);
emailDigestSchema.index({ personKey: 1, status: 1 });
emailDigestSchema.index({ status: 1, createdAt: 1 });

export const EmailDigestModel = mongoose.model('EmailDigest', emailDigestSchema, 'email_digests');
export type EmailDigestDoc = InferSchemaType<typeof emailDigestSchema> & { _id: string };
