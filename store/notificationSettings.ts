import mongoose, { Schema, type InferSchemaType } from 'mongoose';

/**
 * One person's email notification settings (customers and administrators alike): the address the
 * host platform syncs, whether email is on, how long unread messages wait before the batched email
 * (delayMinutes), and the conversations they muted. An administrator's in-app and webhook switches
 * stay on their administrator document (administrators.ts).
 */

export const DEFAULT_EMAIL_DELAY_MINUTES = 10;

const notificationSettingsSchema = new Schema(
  {
    /** notificationSettingsId(networkId, kind, id). */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    personKind: { type: String, enum: ['customer', 'admin'], required: true },
    personId: { type: String, required: true },
    /** From host sync; no address, no email. */
    email: { type: String },
    emailEnabled: { type: Boolean, default: true },
    delayMinutes: { type: Number, default: DEFAULT_EMAIL_DELAY_MINUTES },
    mutedChatIds: { type: [String], default: [] },
  },
  { timestamps: true, versionKey: false },
);

export const NotificationSettingsModel = mongoose.model('NotificationSettings', notificationSettingsSchema, 'notification_settings');
export type NotificationSettingsDoc = InferSchemaType<typeof notificationSettingsSchema> & { _id: string };

export type PersonKind = 'customer' | 'admin';

export function notificationSettingsId(networkId: string, kind: PersonKind, id: string): string {
  return `${networkId}|${kind}:${id}`;
}

/** A person's settings, or the defaults (not stored) when they have none yet. */
export async function findNotificationSettings(networkId: string, kind: PersonKind, id: string): Promise<NotificationSettingsDoc> {
  const _id = notificationSettingsId(networkId, kind, id);
  const doc = await NotificationSettingsModel.findById(_id).lean<NotificationSettingsDoc>();
  return doc ?? { _id, networkId, personKind: kind, personId: id, emailEnabled: true, delayMinutes: DEFAULT_EMAIL_DELAY_MINUTES, mutedChatIds: [] } as unknown as NotificationSettingsDoc;
}

/**
 * Changes a person's settings (creating them with the defaults). `email: null` removes the
 * address; undefined fields stay as they are.
 */
export async function updateNotificationSettings(
  networkId: string,
  kind: PersonKind,
  id: string,
  change: { email?: string | null; emailEnabled?: boolean; delayMinutes?: number; mutedChatIds?: string[] },
): Promise<NotificationSettingsDoc> {
  const set: Record<string, unknown> = {};
  if (typeof change.email === 'string') set.email = change.email;
  if (change.emailEnabled !== undefined) set.emailEnabled = change.emailEnabled;
  if (change.delayMinutes !== undefined) set.delayMinutes = change.delayMinutes;
  if (change.mutedChatIds !== undefined) set.mutedChatIds = [...new Set(change.mutedChatIds)];
  const update: Record<string, unknown> = { $setOnInsert: { networkId, personKind: kind, personId: id } };
  if (Object.keys(set).length > 0) update.$set = set;
  if (change.email === null) update.$unset = { email: 1 };
  const doc = await NotificationSettingsModel.findOneAndUpdate({ _id: notificationSettingsId(networkId, kind, id) }, update, {
    upsert: true,
    returnDocument: 'after',
    setDefaultsOnInsert: true,
  }).lean<NotificationSettingsDoc>();
  return doc!;
}

/** Mutes or unmutes one conversation for a person. */
export async function setChatMuted(networkId: string, kind: PersonKind, id: string, chatId: string, muted: boolean): Promise<NotificationSettingsDoc> {
  const current = await findNotificationSettings(networkId, kind, id);
  const others = (current.mutedChatIds ?? []).filter((c) => c !== chatId);
  return updateNotificationSettings(networkId, kind, id, { mutedChatIds: muted ? [...others, chatId] : others });
}
