import { createHash } from 'node:crypto';
import type { MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import { decodeCursor, encodeCursor } from './pageCursor';
import { displayBody, relationOf } from './messageRelations';
import { administratorRosterOfTransaction, administratorsOfTransaction, networkOfTransaction } from './transactionReads';
import { activeAdministrators, NetworkModel, AdminNotificationModel, WebhookDeliveryModel, type AdminNotificationDoc } from '../../store';

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


export interface SupportMessageWebhookPayload {
  /**
   * The event type (Standard Webhooks style): `message.created` for a customer's new message in a
   * support chat. Host platforms route on it (e.g. to their own mobile push).
   */
  event: 'message.created';
  /** The old name of the same event, kept one release (README "Webhooks"). */
  type: 'support_message';
  chatKind: 'support';
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
): Promise<NewNotification[]> {
  const sender = parseVirtualUserId(event.sender, domain);
  if (sender?.kind !== 'customer' || conversation.kind !== 'support') return [];
  if (conversation.networkId !== sender.networkId || !conversation.customerIds.includes(sender.id)) return [];
  const [network, admins] = await Promise.all([networkOfTransaction(conversation.networkId), administratorsOfTransaction(conversation.networkId)]);
  if (!network) return [];
  // A reply's quoted fallback is not its text.
  const preview = typeof event.content?.body === 'string' ? displayBody(event.content.body, relationOf(event.type, event.content)).slice(0, PREVIEW_LENGTH) : '';
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
      event: 'message.created',
      type: 'support_message',
      chatKind: 'support',
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
  return inAppAdmins.map((admin) => ({
    adminId: admin.adminId,
    notification: {
      id: notificationId(conversation.networkId, admin.adminId, event.event_id),
      type: 'support_message',
      chatId: conversation._id,
      customerId: sender.id,
      messageId: event.event_id,
      preview,
      at: at.toISOString(),
      read: false,
    },
  }));
}

/** An in-app notification just recorded, as the notifications route shows it. */
export interface NewNotification {
  adminId: string;
  notification: { id: string; type: string; chatId: string; customerId: string; messageId: string; preview: string; at: string; read: boolean };
}

/** An edited message shows its new text in the notifications about it (an unsent one shows none). */
export async function followEditedMessage(networkId: string, messageId: string, preview: string): Promise<void> {
  await AdminNotificationModel.updateMany({ _id: { $in: await notificationIdsOf(networkId, messageId) }, preview: { $ne: null } }, { $set: { preview: preview.slice(0, PREVIEW_LENGTH) } });
}

/** An unsent message leaves no preview behind in anyone's notification list. */
export async function forgetUnsentMessage(networkId: string, messageId: string): Promise<void> {
  await AdminNotificationModel.updateMany({ _id: { $in: await notificationIdsOf(networkId, messageId) } }, { $set: { preview: null } });
}

/**
 * Every id a notification about this message can have: one per administrator the network ever
 * had (the roster keeps them all), so the writes above go by `_id` and never search the
 * notifications of every network by message (FerretDB would decode the whole collection).
 */
async function notificationIdsOf(networkId: string, messageId: string): Promise<string[]> {
  return (await administratorRosterOfTransaction(networkId)).map((adminId) => notificationId(networkId, adminId, messageId));
}

function notificationId(networkId: string, adminId: string, eventId: string): string {
  return `nt_${sha256(`${networkId}|${adminId}|${eventId}`).slice(0, 32)}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** An administrator's in-app notifications, newest first (keyset pages on (at, _id)). */
export async function notificationsPage(
  networkId: string,
  adminId: string,
  opts: { unreadOnly: boolean; cursor?: string; limit: number },
): Promise<{ notifications: Array<AdminNotificationDoc & { _id: string }>; nextCursor: string | null }> {
  const conditions: Record<string, unknown>[] = [{ networkId, adminId }];
  if (opts.unreadOnly) conditions.push({ readAt: null });
  if (opts.cursor) {
    const [ms, id] = decodeCursor(opts.cursor, ['number', 'string'] as const);
    const at = new Date(ms);
    conditions.push({ $or: [{ at: { $lt: at } }, { at, _id: { $lt: id } }] });
  }
  const docs = await AdminNotificationModel.find({ $and: conditions })
    .sort({ at: -1, _id: -1 })
    .limit(opts.limit + 1)
    .lean<(AdminNotificationDoc & { _id: string })[]>();
  const page = docs.slice(0, opts.limit);
  const last = page[page.length - 1];
  return { notifications: page, nextCursor: docs.length > opts.limit && last ? encodeCursor([new Date(last.at).getTime(), last._id]) : null };
}

export async function unreadNotificationCount(networkId: string, adminId: string): Promise<number> {
  return AdminNotificationModel.countDocuments({ networkId, adminId, readAt: null });
}

/** Marks the given notifications (or all of them) read; returns the unread count after. */
export async function markNotificationsRead(networkId: string, adminId: string, ids?: readonly string[]): Promise<number> {
  await AdminNotificationModel.updateMany({ networkId, adminId, readAt: null, ...(ids ? { _id: { $in: ids } } : {}) }, { $set: { readAt: new Date() } });
  return unreadNotificationCount(networkId, adminId);
}

export interface ReportWebhookPayload {
  type: 'report';
  deliveryId: string;
  networkId: string;
  reportId: string;
  reason: string;
  customerId: string | null;
  chatId: string | null;
  messageId: string | null;
  adminIds: string[];
  reportedAt: string;
}

/**
 * A new report notifies the network's administrators through their channels (in-app, webhook),
 * keyed by the report's id. Who reported and the text are not in the notification: administrators
 * read them in the report queue.
 */
export async function recordReportNotification(report: {
  _id: string;
  networkId: string;
  customerId: string | null;
  chatId: string | null;
  messageId: string | null;
  reason: string;
  createdAt: Date;
}): Promise<void> {
  const [network, admins] = await Promise.all([
    NetworkModel.findById(report.networkId).lean(),
    activeAdministrators(report.networkId),
  ]);
  if (!network) return;
  const inAppAdmins = network.notifications?.inApp === false ? [] : admins.filter((a) => a.notifications?.inApp !== false);
  if (inAppAdmins.length > 0) {
    await AdminNotificationModel.bulkWrite(
      inAppAdmins.map((admin) => ({
        updateOne: {
          filter: { _id: notificationId(report.networkId, admin.adminId, report._id) },
          update: {
            $setOnInsert: {
              networkId: report.networkId,
              adminId: admin.adminId,
              type: 'report',
              reportId: report._id,
              chatId: report.chatId,
              customerId: report.customerId,
              messageId: report.messageId,
              preview: `Report: ${report.reason}`,
              at: report.createdAt,
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
    const deliveryId = `wh_${sha256(`${report.networkId}|${report._id}`).slice(0, 32)}`;
    const payload: ReportWebhookPayload = {
      type: 'report',
      deliveryId,
      networkId: report.networkId,
      reportId: report._id,
      reason: report.reason,
      customerId: report.customerId,
      chatId: report.chatId,
      messageId: report.messageId,
      adminIds: webhookAdmins,
      reportedAt: report.createdAt.toISOString(),
    };
    await WebhookDeliveryModel.updateOne(
      { _id: deliveryId },
      { $setOnInsert: { networkId: report.networkId, payloadJson: JSON.stringify(payload), status: 'pending' } },
      { upsert: true },
    );
  }
}
