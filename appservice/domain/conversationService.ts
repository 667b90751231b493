import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type Logger, ChatsDisabledError, NotFoundError, RecipientNotReachableError, AppError } from '../../runtime';
import { isAliasTaken, MatrixApi, MatrixError, type MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId, USER_PREFIX } from '../matrix/virtualUsers';
import { VirtualUserService } from '../matrix/virtualUserService';
import { rememberConversationRoom } from './roomConversations';
import { restoreSavedPowerLevels } from './savedPowerLevels';
import { noteSupportActivity } from './supportInbox';
import { customerFacts, decideDirectChatByAnyPath, decideSupportChat, type ChatPath } from './chatRules';
import { adminDocId, conversationIdForKey, customerDocId, AdministratorModel, ConversationModel, CustomerModel, FeedPostModel, NetworkModel, SentMessageModel, type ConversationDoc, type CustomerDoc } from '../../store';

/** Who is acting: a customer or an administrator of a network. */
export interface Actor {
  kind: 'customer' | 'admin';
  networkId: string;
  id: string;
}

export type Conversation = ConversationDoc & { _id: string };

export interface ChatMessage {
  id: string;
  chatId: string;
  sender: { kind: 'customer' | 'admin' | 'service'; id: string | null };
  type: 'text' | 'file' | 'image';
  body: string;
  attachment?: { mediaId: string; name: string; mimeType?: string; size?: number };
  sentAt: string;
}

const ROOM_READY_WAIT_MS = 15000;
/** Content key carrying a portal send's transaction id (exactly-once across Synapse restarts). */
export const SEND_MARKER = 'coworking.txn_id';
/** How far back a retried send looks for its own earlier attempt. */
const MARKER_LOOKBACK = 50;
/** Conversations whose room exists, kept in memory for the access checks of chat routes. */
const SETTLED_CONVERSATIONS = 10000;

/**
 * Conversations: exactly one Matrix room per direct pair or per (network, customer) support chat,
 * and the messages in them. Rooms are created by the appservice bot, whose creator power lets the
 * service (not the participants) control room settings such as the chats toggle.
 */
export class ConversationService {
  constructor(
    private readonly api: MatrixApi,
    private readonly virtualUsers: VirtualUserService,
    private readonly domain: string,
    private readonly log: Logger,
  ) {}

  private readonly settled = new LRUCache<string, Conversation>({ max: SETTLED_CONVERSATIONS });

  /** A customer opens (or gets back) a direct conversation with another customer. */
  async openDirect(requester: Actor, recipientId: string, path: ChatPath | readonly ChatPath[]): Promise<Conversation> {
    const network = await this.requireNetwork(requester.networkId);
    if (!network.chatsEnabled) throw new ChatsDisabledError();
    const [me, other] = await Promise.all([
      this.requireCustomer(requester.networkId, requester.id),
      CustomerModel.findById(customerDocId(requester.networkId, recipientId)).lean(),
    ]);
    // An unknown recipient is as unreachable as a hidden one: the answer never tells which.
    if (!other) throw new RecipientNotReachableError();
    const key = directKey(requester.networkId, requester.id, recipientId);
    const existing = await ConversationModel.findById(conversationIdForKey(key)).lean<Conversation>();
    // Rule 6: existing conversations stay usable; rule 5's exception: the hidden one started it.
    if (existing) return this.ensureRoom(existing);
    const hasPosted = (await FeedPostModel.exists({ networkId: requester.networkId, authorId: recipientId })) !== null;
    const decision = decideDirectChatByAnyPath(
      {
        network: { chatsEnabled: network.chatsEnabled, communityVisibility: network.communityVisibility },
        requester: customerFacts(me),
        recipient: customerFacts(other),
        recipientHasPostedOnFeed: hasPosted,
        recipientStartedChatWithRequester: false,
      },
      Array.isArray(path) ? path : [path as ChatPath],
    );
    if (!decision.allowed) {
      if (decision.reason === 'chats_disabled') throw new ChatsDisabledError();
      throw new RecipientNotReachableError();
    }
    const conversation = await this.claim({
      key,
      networkId: requester.networkId,
      kind: 'direct',
      customerIds: [requester.id, recipientId].sort(),
      startedBy: requester.id,
    });
    return this.ensureRoom(conversation);
  }

  /** A support conversation between a customer and the network's administrators. */
  async openSupport(networkId: string, customerId: string, startedBy: Actor): Promise<Conversation> {
    const network = await this.requireNetwork(networkId);
    const customer = await CustomerModel.findById(customerDocId(networkId, customerId)).lean();
    if (!customer) throw new NotFoundError('customer');
    const decision = decideSupportChat(
      { chatsEnabled: network.chatsEnabled, communityVisibility: network.communityVisibility },
      customerFacts(customer),
    );
    if (!decision.allowed) {
      if (decision.reason === 'chats_disabled') throw new ChatsDisabledError();
      throw new RecipientNotReachableError();
    }
    const key = supportKey(networkId, customerId);
    const existing = await ConversationModel.findById(conversationIdForKey(key)).lean<Conversation>();
    const conversation =
      existing ??
      (await this.claim({
        key,
        networkId,
        kind: 'support',
        customerIds: [customerId],
        startedBy: startedBy.kind === 'admin' ? `admin:${startedBy.id}` : startedBy.id,
      }));
    return this.ensureRoom(conversation);
  }

  /**
   * The conversation if `actor` takes part in it; 404 otherwise (also for other networks). With
   * `fresh: false` the conversation may come from this process's memory: what decides access
   * (network, kind, participants) and its room never change once the room exists, but its last
   * message and activity may be older than in the database.
   */
  async getForParticipant(chatId: string, actor: Actor, opts: { fresh: boolean } = { fresh: true }): Promise<Conversation> {
    const conversation = opts.fresh ? await this.loadConversation(chatId) : (this.settled.get(chatId) ?? (await this.loadConversation(chatId)));
    if (!conversation || conversation.networkId !== actor.networkId) throw new NotFoundError('chat');
    const participates =
      actor.kind === 'customer' ? conversation.customerIds.includes(actor.id) : conversation.kind === 'support';
    if (!participates) throw new NotFoundError('chat');
    if (actor.kind === 'admin') {
      // `_id` alone: FerretDB pushes a filter down only when `_id` is its one field.
      const admin = await AdministratorModel.findById(adminDocId(actor.networkId, actor.id)).select({ status: 1 }).lean();
      if (admin?.status !== 'active') throw new NotFoundError('chat');
    }
    return conversation;
  }

  private async loadConversation(chatId: string): Promise<Conversation | null> {
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (conversation?.roomId) {
      this.settled.set(chatId, conversation);
    }
    return conversation;
  }

  /**
   * What every chat route starts with: chats on (rule 1), and the caller takes part (else 404).
   * Both lookups run side by side; a disabled network answers chats_disabled before anything else.
   * Routes that show the conversation itself ask for `fresh`.
   */
  async openForParticipant(chatId: string, actor: Actor, opts: { fresh: boolean } = { fresh: false }): Promise<Conversation> {
    const [enabled, conversation] = await Promise.allSettled([this.assertChatsEnabled(actor.networkId), this.getForParticipant(chatId, actor, opts)]);
    if (enabled.status === 'rejected') throw enabled.reason;
    if (conversation.status === 'rejected') throw conversation.reason;
    return conversation.value;
  }

  /** Rule 1; returns the network document, so callers need not read it again. */
  async assertChatsEnabled(networkId: string) {
    const network = await this.requireNetwork(networkId);
    if (!network.chatsEnabled) throw new ChatsDisabledError();
    return network;
  }

  matrixUserOf(actor: Actor): string {
    return this.virtualUsers.userId({ kind: actor.kind, networkId: actor.networkId, id: actor.id });
  }

  /** Sends text as the actor's virtual user; the same client txnId always yields the same message. */
  async sendText(conversation: Conversation, actor: Actor, txnId: string, body: string): Promise<string> {
    return this.sendOnce(conversation, actor, txnId, { msgtype: 'm.text', body });
  }

  async sendOnce(conversation: Conversation, actor: Actor, txnId: string, content: Record<string, unknown>): Promise<string> {
    const sender = this.matrixUserOf(actor);
    const recordId = `${conversation._id}|${sender}|${txnId}`;
    // One round trip claims the send: null when this call created the record, else the earlier one.
    const known = await SentMessageModel.findOneAndUpdate({ _id: recordId }, { $setOnInsert: { chatId: conversation._id } }, { upsert: true, returnDocument: 'before' })
      .lean()
      .catch(async (err) => {
        // A concurrent duplicate inserted it between the two halves of the upsert.
        if ((err as { code?: number }).code !== 11000) throw err;
        return SentMessageModel.findById(recordId).lean();
      });
    if (known?.eventId) return known.eventId;
    const room = await this.ensureRoom(conversation);
    if (actor.kind === 'admin') await this.ensureJoined(room.roomId!, sender);
    // Deterministic Matrix transaction id: a retry (or a concurrent duplicate) reaches Synapse with
    // the same id, and Synapse answers it with the event it already created — but only from memory,
    // so the id also travels in the content, where a retry after a Synapse restart can find it.
    const matrixTxnId = `p.${sha256(recordId).slice(0, 40)}`;
    // An earlier attempt began and never learned its answer: it may have reached Synapse.
    const earlier = known ? await this.findSentByMarker(room.roomId!, sender, matrixTxnId) : null;
    const eventId = earlier ?? (await this.sendWhileChatsOn(conversation, room.roomId!, matrixTxnId, { ...content, [SEND_MARKER]: matrixTxnId }, sender));
    // Not awaited: the answer does not depend on it. Until it lands (or if it never does), a retry
    // finds the event by its marker instead.
    SentMessageModel.updateOne({ _id: recordId }, { $set: { eventId } }).catch((err) => {
      this.log.warn({ err: (err as Error).message, recordId }, 'could not record the event id of a send');
    });
    return eventId;
  }


  /**
   * Sends into a room of a network whose chats are on. Right after chats are turned back on, the
   * queued fan-out may not have restored this room yet; a refusal then restores the room's saved
   * power levels here and sends again, instead of failing the participant.
   */
  private async sendWhileChatsOn(conversation: Conversation, roomId: string, txnId: string, content: Record<string, unknown>, sender: string): Promise<string> {
    try {
      return await this.api.sendEvent(roomId, 'm.room.message', txnId, content, sender);
    } catch (err) {
      if (!(err instanceof MatrixError && err.errcode === 'M_FORBIDDEN')) throw err;
      await this.assertChatsEnabled(conversation.networkId);
      if (!(await restoreSavedPowerLevels(this.api, roomId)).existed) throw err;
      this.log.info({ roomId }, 'room restored from read-only by a send after chats were turned on');
      return this.api.sendEvent(roomId, 'm.room.message', txnId, content, sender);
    }
  }

  /** The sender's recent event that carries this send's marker, if an earlier attempt created it. */
  private async findSentByMarker(roomId: string, sender: string, marker: string): Promise<string | null> {
    const page = await this.api.messages(roomId, sender, {
      limit: MARKER_LOOKBACK,
      dir: 'b',
      filter: { types: ['m.room.message'], senders: [sender] },
    });
    return page.chunk.find((e) => e.content?.[SEND_MARKER] === marker)?.event_id ?? null;
  }

  /** Messages newest first; redacted ones are left out. `from` is the cursor of the previous page. */
  async listMessages(
    conversation: Conversation,
    actor: Actor,
    opts: { from?: string; limit: number },
  ): Promise<{ messages: ChatMessage[]; nextCursor: string | null }> {
    const room = await this.ensureRoom(conversation);
    const asUser = this.matrixUserOf(actor);
    if (actor.kind === 'admin') await this.ensureJoined(room.roomId!, asUser);
    let page;
    try {
      page = await this.api.messages(room.roomId!, asUser, {
        from: opts.from,
        limit: opts.limit,
        dir: 'b',
        filter: { types: ['m.room.message'], lazy_load_members: true },
      });
    } catch (err) {
      if (err instanceof MatrixError && err.status === 400 && opts.from) {
        throw new AppError('invalid_request', 400, 'from: not a valid cursor', { field: 'from' });
      }
      throw err;
    }
    const messages = page.chunk
      .map((event) => this.toChatMessage(conversation._id, event))
      .filter((m): m is ChatMessage => m !== null);
    const nextCursor = page.end && page.chunk.length > 0 ? page.end : null;
    return { messages, nextCursor };
  }

  toChatMessage(chatId: string, event: MatrixEvent): ChatMessage | null {
    const content = event.content ?? {};
    if (event.type !== 'm.room.message' || typeof content.body !== 'string' || event.unsigned?.redacted_because) {
      return null;
    }
    const ref = parseVirtualUserId(event.sender, this.domain);
    const msgtype = String(content.msgtype ?? 'm.text');
    const message: ChatMessage = {
      id: event.event_id,
      chatId,
      sender: ref ? { kind: ref.kind, id: ref.id } : { kind: 'service', id: null },
      type: msgtype === 'm.image' ? 'image' : msgtype === 'm.file' ? 'file' : 'text',
      body: content.body,
      sentAt: new Date(event.origin_server_ts).toISOString(),
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
   * Inserts the conversation under its unique key (its `_id` follows from the key). Concurrent
   * callers race on the unique index, never on a check-then-create: the loser reads the winner's
   * document.
   */
  private async claim(fields: {
    key: string;
    networkId: string;
    kind: 'direct' | 'support';
    customerIds: string[];
    startedBy: string;
  }): Promise<Conversation> {
    let conversation: Conversation;
    try {
      const doc = await ConversationModel.create({ _id: conversationIdForKey(fields.key), ...fields, lastActivityAt: new Date() });
      conversation = doc.toObject() as Conversation;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      const winner = await ConversationModel.findById(conversationIdForKey(fields.key)).lean<Conversation>();
      if (!winner) throw err;
      conversation = winner;
    }
    // Into the network's support inbox (both ways: the loser's call repairs a winner that crashed).
    if (conversation.kind === 'support') {
      await noteSupportActivity(conversation.networkId, conversation._id, new Date(conversation.lastActivityAt), conversation.customerIds);
    }
    return conversation;
  }

  /**
   * Makes sure the conversation has its Matrix room with every participant joined. The room alias
   * is derived from the conversation key, so even two processes (or a crash and a retry) end with
   * one room: Synapse refuses the second alias and we adopt the room it points to.
   */
  async ensureRoom(conversation: Conversation): Promise<Conversation & { roomId: string }> {
    if (conversation.roomId) return conversation as Conversation & { roomId: string };
    const members = await this.participantUserIds(conversation);
    const aliasLocalpart = `${USER_PREFIX}${conversation.kind === 'direct' ? 'd' : 's'}_${sha256(conversation.key).slice(0, 32)}`;
    let roomId: string;
    try {
      roomId = await this.api.createRoom({
        preset: 'private_chat',
        visibility: 'private',
        room_version: CONVERSATION_ROOM_VERSION,
        room_alias_name: aliasLocalpart,
        invite: members,
        is_direct: conversation.kind === 'direct',
        ...(conversation.kind === 'support' ? { name: 'Support' } : {}),
        initial_state: [
          { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } },
          { type: 'm.room.guest_access', state_key: '', content: { guest_access: 'forbidden' } },
        ],
        power_level_content_override: roomPowerLevels(),
      });
    } catch (err) {
      if (!isAliasTaken(err)) throw err;
      const existing = await this.waitForAlias(`#${aliasLocalpart}:${this.domain}`);
      roomId = existing;
      await Promise.all(members.map((m) => this.api.invite(roomId, m)));
    }
    await Promise.all(members.map((m) => this.ensureJoined(roomId, m)));
    // Set only where none is stored yet (read, then write by `_id` alone: FerretDB scans for any
    // other filter). Two processes racing here adopted the same room through the alias above.
    let stored = await ConversationModel.findById(conversation._id).lean<Conversation>();
    if (stored && !stored.roomId) {
      await ConversationModel.updateOne({ _id: conversation._id }, { $set: { roomId } });
      stored = { ...stored, roomId };
    }
    if (stored?.roomId) rememberConversationRoom(stored.roomId, conversation._id);
    this.log.info({ chatId: conversation._id, roomId: stored?.roomId }, 'conversation room ready');
    return { ...conversation, roomId: stored?.roomId ?? roomId };
  }

  private async waitForAlias(alias: string): Promise<string> {
    const deadline = Date.now() + ROOM_READY_WAIT_MS;
    for (;;) {
      const roomId = await this.api.resolveAlias(alias);
      if (roomId) return roomId;
      if (Date.now() > deadline) throw new Error(`alias ${alias} is taken but does not resolve`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async ensureJoined(roomId: string, userId: string, registered = false): Promise<void> {
    try {
      await this.api.join(roomId, userId);
    } catch (err) {
      // Provisioning has not reached this person yet: register the virtual user now (idempotent;
      // the queued job still sets the profile), then try once more.
      if (!registered && err instanceof MatrixError && err.status === 403 && /not registered this user/.test(err.message)) {
        await this.api.registerVirtualUser(userId.slice(1, userId.indexOf(':')));
        return this.ensureJoined(roomId, userId, true);
      }
      // Not invited yet (e.g. an administrator added after the room was made): invite, then join.
      if (err instanceof MatrixError && err.status === 403) {
        await this.api.invite(roomId, userId);
        await this.api.join(roomId, userId);
        return;
      }
      throw err;
    }
  }

  private async participantUserIds(conversation: Conversation): Promise<string[]> {
    const customers = conversation.customerIds.map((id) =>
      this.virtualUsers.userId({ kind: 'customer', networkId: conversation.networkId, id }),
    );
    if (conversation.kind === 'direct') return customers;
    const admins = await AdministratorModel.find({ networkId: conversation.networkId, status: 'active' })
      .select({ matrixUserId: 1 })
      .lean();
    return [...customers, ...admins.map((a) => a.matrixUserId)];
  }

  private async requireNetwork(networkId: string) {
    const network = await NetworkModel.findById(networkId).lean();
    if (!network) throw new NotFoundError('network');
    return network;
  }

  private async requireCustomer(networkId: string, customerId: string) {
    const customer = await CustomerModel.findById(customerDocId(networkId, customerId)).lean();
    if (!customer) throw new NotFoundError('customer');
    return customer;
  }
}

/**
 * Room version 12: the creator (the service bot) holds unlimited power that no power-level event
 * can take away, so the chats toggle and room settings stay the service's even if a participant's
 * Matrix client tries to change them.
 */
export const CONVERSATION_ROOM_VERSION = '12';

/** Power levels of every conversation room: participants talk; settings need the creator (bot). */
export function roomPowerLevels(): Record<string, unknown> {
  return {
    users: {},
    users_default: 0,
    events_default: 0,
    state_default: 100,
    invite: 100,
    kick: 100,
    ban: 100,
    // Everyone may redact their own events regardless; redacting others' needs 100.
    redact: 100,
    events: {
      'm.room.message': 0,
      'm.reaction': 0,
      'm.room.redaction': 0,
      'm.room.name': 100,
      'm.room.topic': 100,
      'm.room.avatar': 100,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.encryption': 100,
      'm.room.tombstone': 100,
    },
    notifications: { room: 100 },
  };
}

export function directKey(networkId: string, a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `direct/${JSON.stringify([networkId, x, y])}`;
}

export function supportKey(networkId: string, customerId: string): string {
  return `support/${JSON.stringify([networkId, customerId])}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
