import { botUserId } from '../matrix/virtualUsers';
import { AppError, sharedInRequest, startInRequest } from '../../runtime';
import { findByIds, IndexedMessageModel, MessageReactionSetModel, reactedMessagesOf, type StandingReaction } from '../../store';
import { MatrixError, type MatrixApi, type MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import type { Actor, Conversation } from './conversation';
import type { ConversationRooms } from './conversationRooms';
import { displayBody, isTextMsgtype, relationOf } from './messageRelations';

export type MessageSender = { kind: 'customer' | 'admin' | 'service'; id: string | null };

export interface ChatMessage {
  id: string;
  chatId: string;
  sender: MessageSender;
  type: 'text' | 'file' | 'image';
  /** The newest version's text (a reply without its quoted fallback). */
  body: string;
  attachment?: { mediaId: string; name: string; mimeType?: string; size?: number };
  sentAt: string;
  /** When the newest edit shown was made; absent for a message never edited. */
  editedAt?: string;
  /** What it answers; `sender` and `bodyPreview` are null when that message is unsent or unknown. */
  replyTo?: { id: string; sender: MessageSender | null; bodyPreview: string | null };
  /** Per key: how many people reacted with it and whether the caller is one of them. */
  reactions: Array<{ key: string; count: number; mine: boolean }>;
}

/** How much of the answered message a reply shows. */
const REPLY_PREVIEW_LENGTH = 100;

/** A conversation's messages, read from Synapse (the store of record) as the participant. */
export class MessageHistory {
  constructor(
    private readonly api: MatrixApi,
    private readonly rooms: ConversationRooms,
    private readonly domain: string,
  ) {}

  /** Messages newest first; redacted ones are left out. `from` is the cursor of the previous page. */
  async list(conversation: Conversation, actor: Actor, opts: { from?: string; limit: number }): Promise<{ messages: ChatMessage[]; nextCursor: string | null }> {
    const { roomId, userId } = await this.rooms.enterRoom(conversation, actor);
    // Which messages have reactions is read beside Synapse's call, so after it only their sets are.
    const reacted = sharedInRequest(marksKey(conversation._id), () => reactedMessagesOf(conversation._id));
    reacted.catch(() => undefined); // awaited below, after the page
    let page;
    try {
      page = await sharedInRequest(pageKey(roomId, userId, opts), () => this.readPage(roomId, userId, opts));
    } catch (err) {
      if (err instanceof MatrixError && err.status === 400 && opts.from) {
        throw new AppError('invalid_request', 400, 'from: not a valid cursor', { field: 'from' });
      }
      throw err;
    }
    const messages = await this.withRelations(
      page.chunk.map((event) => this.toChatMessage(conversation._id, event)).filter((m): m is ChatMessage => m !== null),
      userId,
      { reacted: await reacted },
    );
    // A page may hold fewer than `limit` messages (edits and unsent ones are not messages of their own).
    const nextCursor = page.end && page.chunk.length > 0 ? page.end : null;
    return { messages, nextCursor };
  }

  /**
   * Starts `list`'s read of Synapse while the request's checks (the caller's status, the chats
   * switch) are still running; `list` with the same arguments in the same request uses it. Only for
   * a customer in a conversation whose room exists: entering the room does nothing for them, so
   * the read changes nothing anywhere. Synapse answers it as the customer's own Matrix user (what
   * that user may read in Matrix anyway), and when the checks refuse the request the answer is
   * dropped unseen. Administrators are left out: entering makes them join the room.
   */
  prefetchPage(conversation: Conversation & { roomId: string }, actor: Actor, opts: { from?: string; limit: number }): void {
    if (actor.kind !== 'customer') return;
    const userId = this.rooms.matrixUserOf(actor);
    startInRequest(pageKey(conversation.roomId, userId, opts), () => this.readPage(conversation.roomId, userId, opts));
    startInRequest(marksKey(conversation._id), () => reactedMessagesOf(conversation._id));
  }

  private readPage(roomId: string, userId: string, opts: { from?: string; limit: number }) {
    return this.api.messages(roomId, userId, { from: opts.from, limit: opts.limit, dir: 'b', filter: { types: ['m.room.message'], lazy_load_members: true } });
  }

  /** One message as history shows it (null: not a message, or unsent), read as the participant. */
  async one(conversation: Conversation, actor: Actor, messageId: string): Promise<ChatMessage | null> {
    const { roomId, userId } = await this.rooms.enterRoom(conversation, actor);
    const event = await this.api.getEvent(roomId, messageId, userId);
    const message = event ? this.toChatMessage(conversation._id, event) : null;
    return message ? (await this.withRelations([message], userId))[0]! : null;
  }

  /** One message as the service reads it (no participant's view: no reaction is `mine`). */
  async oneAsService(conversation: Conversation, messageId: string): Promise<ChatMessage | null> {
    return (await this.oneWithReactors(conversation, messageId))?.message ?? null;
  }

  /**
   * One message as the service reads it, and who reacted with each key (Matrix user ids): enough
   * to tell each participant which reactions are `mine` without reading the message again.
   */
  async oneWithReactors(conversation: Conversation, messageId: string): Promise<{ message: ChatMessage; reactors: Map<string, Set<string>> } | null> {
    if (!conversation.roomId) return null;
    const bot = botUserId(this.domain);
    const event = await this.api.getEvent(conversation.roomId, messageId, bot);
    const message = event ? this.toChatMessage(conversation._id, event) : null;
    if (!message) return null;
    const reactors = new Map<string, Map<string, Set<string>>>();
    await this.withRelations([message], bot, { reactorsOut: reactors });
    return { message, reactors: reactors.get(message.id) ?? new Map() };
  }

  /**
   * A message event as the portal shows it, in its newest version (Synapse bundles the newest edit
   * by the same sender); null for anything that is not a message of its own: other events, unsent
   * messages, and edits. Reactions and what a reply answers are added by withRelations.
   */
  toChatMessage(chatId: string, event: MatrixEvent): ChatMessage | null {
    const content = event.content ?? {};
    if (event.type !== 'm.room.message' || typeof content.body !== 'string' || event.unsigned?.redacted_because) {
      return null;
    }
    const relation = relationOf(event.type, content);
    if (relation?.kind === 'edit') return null;
    const ref = parseVirtualUserId(event.sender, this.domain);
    const msgtype = String(content.msgtype ?? 'm.text');
    const edit = isTextMsgtype(msgtype) ? newestEdit(event) : null;
    const message: ChatMessage = {
      id: event.event_id,
      chatId,
      sender: senderOf(ref),
      type: msgtype === 'm.image' ? 'image' : msgtype === 'm.file' ? 'file' : 'text',
      body: edit?.body ?? displayBody(content.body, relation),
      sentAt: new Date(event.origin_server_ts).toISOString(),
      ...(edit ? { editedAt: edit.at } : {}),
      ...(relation?.kind === 'reply' ? { replyTo: { id: relation.targetId, sender: null, bodyPreview: null } } : {}),
      reactions: [],
    };
    if ((msgtype === 'm.file' || msgtype === 'm.image') && typeof content.url === 'string') {
      const info = (content.info ?? {}) as { mimetype?: string; size?: number };
      message.attachment = {
        mediaId: content.url.replace(/^mxc:\/\/[^/]+\//, ''),
        name: content.body,
        mimeType: info.mimetype,
        size: info.size,
      };
    }
    return message;
  }

  /**
   * Adds what the conversation index knows: each message's reactions, aggregated per key, and the
   * sender and text of the message a reply answers (in this conversation only). `reacted`: the
   * messages of the conversation that may have reactions (conversation_reaction_marks); only their
   * sets are read ('all', the default: every message's).
   */
  private async withRelations(
    messages: ChatMessage[],
    viewer: string,
    opts: { reactorsOut?: Map<string, Map<string, Set<string>>>; reacted?: ReadonlySet<string> | 'all' } = {},
  ): Promise<ChatMessage[]> {
    if (messages.length === 0) return messages;
    const { reactorsOut, reacted = 'all' } = opts;
    // The page's reaction sets and the messages its replies answer, side by side, each one query by `_id`.
    const replyIds = messages.flatMap((m) => (m.replyTo ? [m.replyTo.id] : []));
    const setIds = messages.map((m) => m.id).filter((id) => reacted === 'all' || reacted.has(id));
    const [sets, answeredById] = await Promise.all([
      setIds.length ? findByIds<{ _id: string; reactions: StandingReaction[] }>(MessageReactionSetModel, setIds) : new Map<string, never>(),
      replyIds.length
        ? findByIds<{ _id: string; chatId: string; senderMatrixId: string; preview?: string; redacted?: boolean }>(IndexedMessageModel, replyIds, { chatId: 1, senderMatrixId: 1, preview: 1, redacted: 1 })
        : new Map<string, never>(),
    ]);
    const byKey = new Map<string, Map<string, Set<string>>>();
    for (const m of messages) {
      for (const r of sets.get(m.id)?.reactions ?? []) {
        const keys = byKey.get(m.id) ?? new Map<string, Set<string>>();
        byKey.set(m.id, keys);
        const senders = keys.get(r.key) ?? new Set<string>();
        keys.set(r.key, senders);
        senders.add(r.senderMatrixId);
      }
    }
    if (reactorsOut) for (const [id, keys] of byKey) reactorsOut.set(id, keys);
    for (const m of messages) {
      m.reactions = [...(byKey.get(m.id) ?? new Map<string, Set<string>>())].map(([key, senders]) => ({ key, count: senders.size, mine: senders.has(viewer) }));
      if (!m.replyTo) continue;
      const target = answeredById.get(m.replyTo.id);
      if (target && !target.redacted && target.chatId === m.chatId) {
        m.replyTo = { id: target._id, sender: senderOf(parseVirtualUserId(target.senderMatrixId, this.domain)), bodyPreview: (target.preview ?? '').slice(0, REPLY_PREVIEW_LENGTH) };
      }
    }
    return messages;
  }
}

/** The request memo's key of a conversation's reacted messages. */
function marksKey(chatId: string): string {
  return `reaction-marks:${chatId}`;
}

/** The request memo's key of one history page read: everything the read depends on. */
function pageKey(roomId: string, userId: string, opts: { from?: string; limit: number }): string {
  return `history:${roomId}:${userId}:${opts.limit}:${opts.from ?? ''}`;
}

function senderOf(ref: { kind: 'customer' | 'admin'; id: string } | null): MessageSender {
  return ref ? { kind: ref.kind, id: ref.id } : { kind: 'service', id: null };
}

/** The newest edit Synapse bundled with a message (`unsigned.m.relations.m.replace`), when it is a text. */
function newestEdit(event: MatrixEvent): { body: string; at: string } | null {
  const relations = event.unsigned?.['m.relations'] as Record<string, unknown> | undefined;
  const edit = relations?.['m.replace'] as MatrixEvent | undefined;
  if (!edit || edit.sender !== event.sender || edit.unsigned?.redacted_because) return null;
  const relation = relationOf(edit.type, edit.content);
  if (relation?.kind !== 'edit' || relation.newBody === null) return null;
  return { body: relation.newBody, at: new Date(edit.origin_server_ts).toISOString() };
}
