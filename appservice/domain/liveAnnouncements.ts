import type { LiveEventPublisher, LiveRecipient } from '../../live';
import { ConversationModel, conversationIdOfRoom } from '../../store';
import type { MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import type { Actor, Conversation } from './conversation';
import type { ChatMessage, MessageHistory } from './messageHistory';
import type { ReadMarkers } from './readMarkers';
import type { NewNotification } from './adminNotifications';
import type { Participant } from './chatList';

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
 * A conversation with its customers' names: what GET /v1/chats lists (with the reader's
 * `unreadCount`) and chat.created carries (portal-api/presenters.ts uses it for both).
 */
export function chatWithParticipants(c: Conversation, participants: ReadonlyMap<string, Participant>) {
  return {
    ...chatSummary(c),
    participants: c.customerIds.map((id) => {
      const person = participants.get(id);
      return { customerId: id, displayName: person?.displayName ?? null, avatarUrl: person?.avatarUrl ?? null, kind: person?.kind ?? null };
    }),
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

  /**
   * A message the index placed in a conversation (`conversation`: as the index's write left it):
   * the message (unless the portal's send announced it) and the new summary.
   */
  async messageIndexed(event: MatrixEvent, conversation: Conversation): Promise<void> {
    const message = this.history.toChatMessage(conversation._id, event);
    if (message) await this.live.messageCreated(conversation, message);
    await this.chatUpdated(conversation, `chat.updated|${event.event_id}`, (actor) => this.readMarkers.unreadCountAfterNewMessage(conversation, actor, event.sender));
  }

  /**
   * An edit or a reaction changed what a message shows: the message in its new version, with
   * `reactions[].mine` as each recipient would see it in their history. One copy (nothing
   * `mine`) goes to everyone who reacted to nothing; only the few participants among the
   * reactors get a copy of their own, so the cost per recipient stays that of the shared copy.
   */
  async messageUpdated(chatId: string, messageId: string): Promise<void> {
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (!conversation) return;
    const found = await this.history.oneWithReactors(conversation, messageId);
    if (!found) return;
    const { message, reactors } = found;
    const own = new Map<string, { recipient: LiveRecipient; message: ChatMessage }>();
    for (const users of reactors.values()) {
      for (const userId of users) {
        const who = parseVirtualUserId(userId, this.domain);
        if (!who || who.networkId !== conversation.networkId || own.has(userId)) continue;
        const participates = who.kind === 'customer' ? conversation.customerIds.includes(who.id) : conversation.kind === 'support';
        if (!participates) continue;
        const reactions = message.reactions.map((r) => ({ ...r, mine: reactors.get(r.key)?.has(userId) ?? false }));
        own.set(userId, { recipient: { kind: who.kind, networkId: who.networkId, id: who.id }, message: { ...message, reactions } });
      }
    }
    await this.live.messageUpdated(conversation, message, `${message.editedAt ?? ''}|${JSON.stringify(message.reactions ?? [])}`, [...own.values()]);
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
