import type { LiveEventPublisher, LiveRecipient } from '../../live';
import { ConversationModel, conversationIdOfRoom } from '../../store';
import type { MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import type { Actor, Conversation } from './conversation';
import type { MessageHistory } from './messageHistory';
import type { ReadMarkers } from './readMarkers';
import type { NewNotification } from './adminNotifications';

/**
 * A conversation as the chat routes show it (GET /v1/chats/:chatId without participants): the
 * stream's chat events carry it, and portal-api/presenters.ts's chatView is this shape.
 */
export function chatSummary(c: Conversation) {
  return {
    id: c._id,
    kind: c.kind,
    networkId: c.networkId,
    customerIds: c.customerIds,
    matrixRoomId: c.roomId ?? null,
    lastActivityAt: new Date(c.lastActivityAt).toISOString(),
    lastMessage: c.lastMessage?.eventId
      ? {
          id: c.lastMessage.eventId,
          senderId: c.lastMessage.senderId ?? null,
          body: c.lastMessage.body,
          sentAt: c.lastMessage.at ? new Date(c.lastMessage.at).toISOString() : null,
        }
      : null,
  };
}

/**
 * What the appservice announces on the live stream as Synapse's events are applied: each call
 * comes after the index (messageIndex.ts, readMarkers.ts) has taken the event in, so a listener
 * that reloads on an event sees it. Replays after a crash publish nothing twice (once-keys).
 */
export class LiveAnnouncements {
  constructor(
    private readonly live: LiveEventPublisher,
    private readonly history: MessageHistory,
    private readonly readMarkers: ReadMarkers,
    private readonly domain: string,
  ) {}

  /** A message the index placed in a conversation: the message (unless the portal's send announced it) and the new summary. */
  async messageIndexed(event: MatrixEvent, chatId: string): Promise<void> {
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (!conversation) return;
    const message = this.history.toChatMessage(chatId, event);
    if (message) await this.live.messageCreated(conversation, message);
    await this.chatUpdated(conversation, `chat.updated|${event.event_id}`, (actor) => this.readMarkers.unreadCountAfterNewMessage(conversation, actor, event.sender));
  }

  /**
   * An edit or a reaction changed what a message shows: the message in its new version. The event
   * goes to every participant alike, so `reactions[].mine` is false in it (a client knows its own
   * reactions from its own PUTs, or reads the history).
   */
  async messageUpdated(chatId: string, messageId: string): Promise<void> {
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (!conversation) return;
    const message = await this.history.oneAsService(conversation, messageId);
    if (!message) return;
    await this.live.messageUpdated(conversation, message, `${message.editedAt ?? ''}|${JSON.stringify(message.reactions ?? [])}`);
    if (conversation.lastMessage?.eventId === messageId) await this.chatUpdated(conversation, `chat.updated|edited|${messageId}|${message.editedAt ?? ''}`);
  }

  async messageRedacted(messageId: string, chatId: string): Promise<void> {
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (!conversation) return;
    await this.live.messageDeleted(conversation, messageId);
    await this.chatUpdated(conversation, `chat.updated|redacted|${messageId}`);
  }

  async readMarkerMoved(chatId: string, participant: { kind: 'customer' | 'admin'; id: string }, messageId: string, readAt: Date): Promise<void> {
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (conversation) await this.live.chatRead(conversation, { participant, messageId, readAt: readAt.toISOString() });
  }

  /** m.typing: the room's whole typing set. */
  async typing(roomId: string, matrixUserIds: readonly string[]): Promise<void> {
    const chatId = await conversationIdOfRoom(roomId);
    if (!chatId) return;
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (!conversation) return;
    const participants = matrixUserIds
      .map((u) => parseVirtualUserId(u, this.domain))
      .filter((r) => r !== null && r.networkId === conversation.networkId)
      .map((r) => ({ kind: r!.kind, id: r!.id }));
    await this.live.typing(conversation, { userIds: participants.map((p) => p.id), participants });
  }

  notificationsCreated(networkId: string, created: readonly NewNotification[]): Promise<void> {
    return this.live.notificationCreated(networkId, created);
  }

  /** chat.updated, each listener with their own unread count. */
  private chatUpdated(conversation: Conversation, onceKey: string, unreadOf?: (actor: Actor) => Promise<number>): Promise<void> {
    const count = unreadOf ?? (async (actor: Actor) => (await this.readMarkers.unreadCounts([conversation], actor)).get(conversation._id) ?? 0);
    return this.live.chatUpdated(
      conversation,
      async (recipient: LiveRecipient) => {
        const actor: Actor = { kind: recipient.kind, networkId: recipient.networkId, id: recipient.id };
        return { ...chatSummary(conversation), unreadCount: await count(actor) };
      },
      onceKey,
    );
  }
}
