import { z } from 'zod';

/**
 * What each route answers, for the OpenAPI document (and so for the typed client in web/ that is
 * generated from it). presenters.ts builds these shapes; keep the two side by side when a field
 * changes.
 */

const isoTime = z.string().describe('ISO 8601 time');
const cursor = z.string().nullable().describe('pass as `cursor` for the next page; null on the last page');
const visibility = z.enum(['administrators', 'location_members', 'network_members']);

export const chatSchema = z.object({
  id: z.string(),
  kind: z.enum(['direct', 'support']),
  networkId: z.string(),
  customerIds: z.array(z.string()),
  matrixRoomId: z.string().nullable(),
  lastActivityAt: isoTime,
  lastMessage: z
    .object({ id: z.string(), senderId: z.string().nullable(), body: z.string(), sentAt: isoTime.nullable() })
    .nullable(),
});

export const participantSchema = z.object({
  customerId: z.string(),
  displayName: z.string().nullable(),
  avatarUrl: z.string().nullable(),
  kind: z.enum(['member', 'nonmember']).nullable(),
});

export const chatWithParticipantsSchema = chatSchema.extend({ participants: z.array(participantSchema) });

export const chatListSchema = z.object({
  chats: z.array(chatWithParticipantsSchema.extend({ unreadCount: z.number().int() })),
  nextCursor: cursor,
});

export const personSchema = z.object({
  customerId: z.string(),
  kind: z.enum(['member', 'nonmember']),
  displayName: z.string(),
  avatarUrl: z.string().nullable(),
  locationIds: z.array(z.string()),
  matrixUserId: z.string(),
});

export const attachmentSchema = z.object({
  mediaId: z.string(),
  name: z.string(),
  mimeType: z.string().optional(),
  size: z.number().int().optional(),
});

export const messageSchema = z.object({
  id: z.string(),
  chatId: z.string(),
  sender: z.object({ kind: z.enum(['customer', 'admin', 'service']), id: z.string().nullable() }),
  type: z.enum(['text', 'file', 'image']),
  body: z.string(),
  attachment: attachmentSchema.optional(),
  sentAt: isoTime,
});

export const messagePageSchema = z.object({ messages: z.array(messageSchema), nextCursor: cursor });

export const sentMessageSchema = z.object({ id: z.string(), chatId: z.string(), txnId: z.string() });

export const sentAttachmentSchema = sentMessageSchema.extend({ attachment: attachmentSchema.required({ mimeType: true, size: true }) });

export const readPositionSchema = z.object({ chatId: z.string(), messageId: z.string(), readAt: isoTime });

export const featuresSchema = z.object({
  chats: z.boolean(),
  communityVisibility: visibility,
  /** The network's attachment policy, so a client can show it before an upload. */
  attachments: z.object({ allowedTypes: z.array(z.string()), maxBytes: z.number().int() }),
});

export const matrixSessionSchema = z.object({ homeserverUrl: z.string(), userId: z.string(), accessToken: z.string(), deviceId: z.string() });

export const communityPageSchema = z.object({ people: z.array(personSchema), nextCursor: cursor });

export const customerSearchSchema = z.object({ customers: z.array(personSchema), nextCursor: cursor });

export const settingsSchema = z.object({
  chatsEnabled: z.boolean(),
  communityVisibility: visibility,
  attachments: z.object({ allowedTypes: z.array(z.string()), maxBytes: z.number().int() }),
  notifications: z.object({ inApp: z.boolean(), webhookUrl: z.string().nullable(), webhookSecretSet: z.boolean() }),
});

export const notificationSchema = z.object({
  id: z.string(),
  type: z.string(),
  chatId: z.string(),
  customerId: z.string(),
  customerName: z.string().nullable().describe("The customer's display name now (null: no longer known)"),
  messageId: z.string(),
  preview: z.string().nullable(),
  at: isoTime,
  read: z.boolean(),
});

export const notificationPageSchema = z.object({ notifications: z.array(notificationSchema), unreadCount: z.number().int(), nextCursor: cursor });

export const unreadCountSchema = z.object({ unreadCount: z.number().int() });

export const networkSchema = z.object({ id: z.string(), name: z.string(), chatsEnabled: z.boolean(), communityVisibility: visibility });

export const locationSchema = z.object({ networkId: z.string(), locationId: z.string(), name: z.string() });

export const syncedCustomerSchema = z.object({
  networkId: z.string(),
  customerId: z.string(),
  kind: z.enum(['member', 'nonmember']),
  displayName: z.string(),
  locationIds: z.array(z.string()),
  hideNameOnBookings: z.boolean(),
  status: z.enum(['active', 'deactivated']),
  matrixUserId: z.string(),
  provisioningJobId: z.string().nullable(),
});

export const syncedAdministratorSchema = z.object({
  networkId: z.string(),
  adminId: z.string(),
  displayName: z.string(),
  matrixUserId: z.string(),
  provisioningJobId: z.string().nullable(),
});

export const feedPostSchema = z.object({ networkId: z.string(), postId: z.string(), authorId: z.string(), locationId: z.string().optional(), createdAt: isoTime });

export const bookingSchema = z.object({
  networkId: z.string(),
  bookingId: z.string(),
  locationId: z.string().optional(),
  participantIds: z.array(z.string()),
  shared: z.boolean(),
});

export const importAcceptedSchema = z.object({ jobId: z.string(), total: z.number().int(), valid: z.number().int(), invalid: z.number().int() });

export const jobSchema = z.object({
  id: z.string(),
  type: z.string(),
  networkId: z.string().nullable(),
  state: z.string(),
  progress: z.number(),
  attemptsMade: z.number().int(),
  createdAt: isoTime,
  finishedAt: isoTime.nullable(),
  failedReason: z.string().nullable(),
  failures: z.array(z.object({ row: z.number().int().optional(), customerId: z.string().optional(), reason: z.string() }).passthrough()),
  result: z.unknown(),
});

export const customerRemovalSchema = z.object({ jobId: z.string(), networkId: z.string(), customerId: z.string(), status: z.literal('deactivated'), erase: z.boolean() });

export const administratorRemovalSchema = z.object({ jobId: z.string(), networkId: z.string(), adminId: z.string(), status: z.literal('removed') });

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  components: z.record(z.string(), z.object({ status: z.enum(['up', 'down']), latencyMs: z.number() }).passthrough()),
});

export const chatsToggleSchema = z.object({ networkId: z.string(), chatsEnabled: z.boolean(), jobId: z.string().nullable() });

export const queuesSchema = z.object({
  queues: z.array(
    z.object({
      name: z.string(),
      counts: z.record(z.string(), z.number().int()),
      failed: z.array(
        z.object({ id: z.string(), type: z.string(), networkId: z.string().nullable(), failedReason: z.string(), attemptsMade: z.number().int(), failedAt: isoTime.nullable() }),
      ),
    }),
  ),
});

export const retriedSchema = z.object({ retried: z.number().int() });
