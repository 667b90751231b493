import { z } from 'zod';
import { attachmentPolicyOf, chatSummary, chatWithParticipants, type ChatMessage, type Conversation, type Participant } from '../appservice';
import type { AdminNotificationDoc, NetworkDoc } from '../store';

/**
 * Response shapes, in one place: what the API shows of the store's documents (API.md). Routes
 * call these; nothing else decides which fields leave the service.
 */

/** A conversation: the same shape the live stream's chat events carry (built in the appservice, where they are produced). */
export function chatView(c: Conversation) {
  return chatSummary(c);
}

/** chatView plus each customer's name, for lists and details. */
export function chatWithParticipantsView(c: Conversation, participants: ReadonlyMap<string, Participant>) {
  return chatWithParticipants(c, participants);
}

/** How far each participant has read ("seen"). */
export function readMarkersView(markers: ReadonlyArray<{ participant: { kind: string; id: string }; messageId: string; readAt: string | null }>) {
  return markers.map((m) => ({ participant: m.participant, messageId: m.messageId, readAt: m.readAt }));
}

export function chatListView(page: { entries: Array<{ conversation: Conversation; unreadCount: number }>; participants: ReadonlyMap<string, Participant>; nextCursor: string | null }) {
  return {
    chats: page.entries.map((e) => ({ ...chatWithParticipantsView(e.conversation, page.participants), unreadCount: e.unreadCount })),
    nextCursor: page.nextCursor,
  };
}

/** A customer as other people see them in lists. */
export function personView(c: { customerId: string; kind: string; displayName: string; avatarUrl?: string | null; locationIds: string[]; matrixUserId: string }) {
  return {
    customerId: c.customerId,
    kind: c.kind,
    displayName: c.displayName,
    avatarUrl: c.avatarUrl ?? null,
    locationIds: c.locationIds,
    matrixUserId: c.matrixUserId,
  };
}

export function networkView(n: { _id: string; name: string; chatsEnabled: boolean; communityVisibility: string }) {
  return { id: n._id, name: n.name, chatsEnabled: n.chatsEnabled, communityVisibility: n.communityVisibility };
}

/** A customer as the host platform sees them (host sync answers). */
export function customerView(c: {
  networkId: string;
  customerId: string;
  kind: string;
  displayName: string;
  locationIds: string[];
  hideNameOnBookings: boolean;
  status: string;
  matrixUserId: string;
}) {
  return {
    networkId: c.networkId,
    customerId: c.customerId,
    kind: c.kind,
    displayName: c.displayName,
    locationIds: c.locationIds,
    hideNameOnBookings: c.hideNameOnBookings,
    status: c.status,
    matrixUserId: c.matrixUserId,
  };
}

/** A network's chat settings as its administrators see them. */
export function settingsView(n: NetworkDoc) {
  return {
    chatsEnabled: n.chatsEnabled,
    communityVisibility: n.communityVisibility,
    attachments: attachmentPolicyOf(n),
    notifications: {
      inApp: n.notifications?.inApp !== false,
      webhookUrl: n.notifications?.webhookUrl ?? null,
      // The secret is write-only: the portal only learns whether one is set.
      webhookSecretSet: Boolean(n.notifications?.webhookSecret),
    },
  };
}

export function notificationView(n: AdminNotificationDoc & { _id: string }, customerName: string | null = null) {
  return {
    id: n._id,
    type: n.type,
    chatId: n.chatId,
    customerId: n.customerId,
    customerName,
    messageId: n.messageId ?? null,
    ...(n.reportId ? { reportId: n.reportId } : {}),
    preview: n.preview ?? null,
    at: new Date(n.at).toISOString(),
    read: n.readAt !== null && n.readAt !== undefined,
  };
}

const senderSchema = z.object({ kind: z.enum(['customer', 'admin', 'service']), id: z.string().nullable() });

/** What messageView answers, for the OpenAPI document. */
export const messageSchema = z
  .object({
    id: z.string(),
    chatId: z.string(),
    sender: senderSchema,
    type: z.enum(['text', 'file', 'image']),
    body: z.string().describe("the newest version's text; a reply without its quoted fallback"),
    attachment: z.object({ mediaId: z.string(), name: z.string(), mimeType: z.string().optional(), size: z.number().optional() }).optional(),
    sentAt: z.string(),
    editedAt: z.string().optional().describe('when the newest edit was made; absent for a message never edited'),
    replyTo: z
      .object({ id: z.string(), sender: senderSchema.nullable(), bodyPreview: z.string().nullable().describe('null when that message is unsent or unknown') })
      .optional()
      .describe('the message this one answers'),
    reactions: z.array(z.object({ key: z.string(), count: z.number().int(), mine: z.boolean() })).describe('per key, in the order they were first used'),
  });

export const messagePageSchema = z.object({ messages: z.array(messageSchema), nextCursor: z.string().nullable() });

/** A message as history, sends and edits show it (API.md › Rich messages). */
export function messageView(m: ChatMessage) {
  return {
    id: m.id,
    chatId: m.chatId,
    sender: m.sender,
    type: m.type,
    body: m.body,
    ...(m.attachment ? { attachment: m.attachment } : {}),
    sentAt: m.sentAt,
    ...(m.editedAt ? { editedAt: m.editedAt } : {}),
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    reactions: m.reactions,
  };
}

export function messagePageView(page: { messages: ChatMessage[]; nextCursor: string | null }) {
  return { messages: page.messages.map(messageView), nextCursor: page.nextCursor };
}
