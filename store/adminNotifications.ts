import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const adminNotificationSchema = new Schema(
  {
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    adminId: { type: String, required: true },
    type: { type: String, enum: ['support_message', 'report'], required: true },
    /** Support messages: always set. Reports: the reported chat, person and message where there is one. */
    chatId: { type: String, default: null },
    customerId: { type: String, default: null },
    messageId: { type: String, default: null },
    reportId: { type: String },
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
