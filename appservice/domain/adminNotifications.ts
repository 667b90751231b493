import { createHash } from 'node:crypto';
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import type { MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import { AdministratorModel, NetworkModel } from './models';

/**
 * Rule 9: a new message from a customer in a support conversation notifies the network's
 * administrators: an in-app notification per administrator (always available), and one webhook
 * delivery per message for the network's outbound channel. Both are written idempotently, keyed by
 * the Matrix event id, because the appservice may replay an event after a crash.
 *
 * The webhook is written to an outbox collection instead of being queued here: the appservice knows
 * nothing of the provisioning workers, whose delivery job (provisioning/notificationDelivery.ts)
 * picks pending deliveries up and sends them with retries.
 */

const PREVIEW_LENGTH = 200;

const adminNotificationSchema = new Schema(
  {
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    adminId: { type: String, required: true },
    type: { type: String, enum: ['support_message'], required: true },
    chatId: { type: String, required: true },
    customerId: { type: String, required: true },
    messageId: { type: String, required: true },
    /** Null once the customer unsent the message: the preview must disappear with it. */
    preview: { type: String, default: null },
    at: { type: Date, required: true },
    readAt: { type: Date, default: null },
  },
  { timestamps: true, versionKey: false },
);
adminNotificationSchema.index({ networkId: 1, adminId: 1, at: -1, _id: -1 });
adminNotificationSchema.index({ networkId: 1, adminId: 1, readAt: 1 });
adminNotificationSchema.index({ messageId: 1 });

const webhookDeliverySchema = new Schema(
  {
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    /** The exact JSON that is signed and sent (kept as text: stable bytes for the signature). */
    payloadJson: { type: String, required: true },
    status: { type: String, enum: ['pending', 'queued', 'delivered', 'failed', 'skipped'], default: 'pending' },
    attempts: { type: Number, default: 0 },
    lastError: { type: String },
    deliveredAt: { type: Date },
  },
  { timestamps: true, versionKey: false },
);
webhookDeliverySchema.index({ status: 1, createdAt: 1 });

export const AdminNotificationModel = mongoose.model('AdminNotification', adminNotificationSchema, 'admin_notifications');
export const WebhookDeliveryModel = mongoose.model('WebhookDelivery', webhookDeliverySchema, 'webhook_deliveries');
export type AdminNotificationDoc = InferSchemaType<typeof adminNotificationSchema>;

export interface SupportMessageWebhookPayload {
  type: 'support_message';
  deliveryId: string;
  networkId: string;
  chatId: string;
  customerId: string;
  /** Administrators whose preferences ask for outbound notifications. */
  adminIds: string[];
  message: { id: string; preview: string; sentAt: string };
}

/**
 * Called for every m.room.message the index placed in a conversation (`conversation`, found from
 * the event's room); does nothing unless rule 9 applies: a customer wrote in their own support
 * conversation.
 */
export async function recordSupportMessageNotification(
  event: MatrixEvent,
  domain: string,
  conversation: { _id: string; networkId: string; kind: string; customerIds: readonly string[] },
): Promise<void> {
  const sender = parseVirtualUserId(event.sender, domain);
  if (sender?.kind !== 'customer' || conversation.kind !== 'support') return;
  if (conversation.networkId !== sender.networkId || !conversation.customerIds.includes(sender.id)) return;
  const [network, admins] = await Promise.all([
    NetworkModel.findById(conversation.networkId).lean(),
    AdministratorModel.find({ networkId: conversation.networkId, status: 'active' }).lean(),
  ]);
  if (!network) return;
  const preview = typeof event.content?.body === 'string' ? event.content.body.slice(0, PREVIEW_LENGTH) : '';
  const at = new Date(event.origin_server_ts);

  const inAppAdmins = network.notifications?.inApp === false ? [] : admins.filter((a) => a.notifications?.inApp !== false);
  if (inAppAdmins.length > 0) {
    await AdminNotificationModel.bulkWrite(
      inAppAdmins.map((admin) => ({
        updateOne: {
          filter: { _id: notificationId(conversation.networkId, admin.adminId, event.event_id) },
          update: {
            $setOnInsert: {
              networkId: conversation.networkId,
              adminId: admin.adminId,
              type: 'support_message',
              chatId: conversation._id,
              customerId: sender.id,
              messageId: event.event_id,
              preview,
              at,
              readAt: null,
            },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  const webhookAdmins = admins.filter((a) => a.notifications?.webhook !== false).map((a) => a.adminId);
  if (network.notifications?.webhookUrl && webhookAdmins.length > 0) {
    const deliveryId = `wh_${sha256(`${conversation.networkId}|${event.event_id}`).slice(0, 32)}`;
    const payload: SupportMessageWebhookPayload = {
      type: 'support_message',
      deliveryId,
      networkId: conversation.networkId,
      chatId: conversation._id,
      customerId: sender.id,
      adminIds: webhookAdmins,
      message: { id: event.event_id, preview, sentAt: at.toISOString() },
    };
    await WebhookDeliveryModel.updateOne(
      { _id: deliveryId },
      { $setOnInsert: { networkId: conversation.networkId, payloadJson: JSON.stringify(payload), status: 'pending' } },
      { upsert: true },
    );
  }
}

/** An unsent message leaves no preview behind in anyone's notification list. */
export async function forgetUnsentMessage(messageId: string): Promise<void> {
  await AdminNotificationModel.updateMany({ messageId }, { $set: { preview: null } });
}

function notificationId(networkId: string, adminId: string, eventId: string): string {
  return `nt_${sha256(`${networkId}|${adminId}|${eventId}`).slice(0, 32)}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
