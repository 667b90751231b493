import { type Logger, ChatsDisabledError, NotFoundError, RecipientNotReachableError } from '../../runtime';
import { conversationIdForKey, ConversationModel, findCustomer, hasPostedOnFeed, isBlockedBy, isChatSuspended, isDuplicateKey } from '../../store';
import type { MatrixApi } from '../matrix/matrixApi';
import type { VirtualUserService } from '../matrix/virtualUserService';
import { customerFacts, decideDirectChatByAnyPath, decideSupportChat, type ChatPath } from './chatRules';
import { directKey, supportKey, type Actor, type Conversation } from './conversation';
import { ConversationAccess, requireNetwork } from './conversationAccess';
import { ConversationRooms } from './conversationRooms';
import { ExactlyOnceSend } from './exactlyOnceSend';
import { MessageHistory } from './messageHistory';
import { noteSupportActivity } from './supportInbox';
import type { LiveEventPublisher } from '../../live';
import { chatWithParticipants } from './liveAnnouncements';
import { participantsOf } from './chatList';

export type { Actor, Conversation } from './conversation';

/**
 * Conversations: opening them under the rules (one per direct pair, one support conversation per
 * customer), and the seams everything else goes through: `access` (who may use one), `rooms`
 * (its Matrix room and who is in it), `sends` (exactly-once portal sends), `history` (its
 * messages).
 */
export class ConversationService {
  readonly access = new ConversationAccess();
  readonly rooms: ConversationRooms;
  readonly sends: ExactlyOnceSend;
  readonly history: MessageHistory;

  constructor(
    api: MatrixApi,
    virtualUsers: VirtualUserService,
    domain: string,
    log: Logger,
    aliasSecret: string,
    private readonly live: LiveEventPublisher,
  ) {
    this.rooms = new ConversationRooms(api, virtualUsers, domain, log, aliasSecret);
    this.history = new MessageHistory(api, this.rooms, domain);
    this.sends = new ExactlyOnceSend(api, this.rooms, this.access, log, this.history, live);
  }

  /** A customer opens (or gets back) a direct conversation with another customer. */
  async openDirect(requester: Actor, recipientId: string, path: ChatPath | readonly ChatPath[]): Promise<Conversation> {
    const { key, existing } = await this.checkDirect(requester, recipientId, path);
    // Rule 6: existing conversations stay usable; rule 5's exception: the hidden one started it.
    if (existing) return this.rooms.ensureRoom(existing);
    const conversation = await this.claim({ key, networkId: requester.networkId, kind: 'direct', customerIds: [requester.id, recipientId].sort(), startedBy: requester.id });
    return this.announceCreated(await this.rooms.ensureRoom(conversation));
  }

  /**
   * What openDirect decides, without opening anything: throws the same errors, or answers the
   * conversation's key and the existing conversation (the homeserver's invite check asks this).
   */
  async checkDirect(requester: Actor, recipientId: string, path: ChatPath | readonly ChatPath[]): Promise<{ key: string; existing: Conversation | null }> {
    const network = await this.access.assertChatsEnabled(requester.networkId);
    const [me, other] = await Promise.all([findCustomer(requester.networkId, requester.id), findCustomer(requester.networkId, recipientId)]);
    if (!me) throw new NotFoundError('customer');
    // An unknown recipient is as unreachable as a hidden one: the answer never tells which.
    if (!other) throw new RecipientNotReachableError();
    const key = directKey(requester.networkId, requester.id, recipientId);
    const [existing, blocked, recipientSuspended] = await Promise.all([
      ConversationModel.findById(conversationIdForKey(key)).lean<Conversation>(),
      isBlockedBy(requester.networkId, recipientId, requester.id),
      isChatSuspended(requester.networkId, recipientId),
    ]);
    // A blocked person opens no chat with the blocker, not even the one they had, and nobody opens
    // one with a suspended customer (never told why).
    if (blocked || recipientSuspended) throw new RecipientNotReachableError();
    // Rule 6: existing conversations stay usable; rule 5's exception: the hidden one started it.
    if (existing) return { key, existing };
    const decision = decideDirectChatByAnyPath(
      {
        network: { chatsEnabled: network.chatsEnabled, communityVisibility: network.communityVisibility },
        requester: customerFacts(me),
        recipient: customerFacts(other),
        recipientHasPostedOnFeed: await hasPostedOnFeed(requester.networkId, recipientId),
        recipientStartedChatWithRequester: false,
        requesterBlockedByRecipient: blocked,
      },
      Array.isArray(path) ? path : [path as ChatPath],
    );
    if (!decision.allowed) {
      if (decision.reason === 'chats_disabled') throw new ChatsDisabledError();
      throw new RecipientNotReachableError();
    }
    return { key, existing: null };
  }

  /** A support conversation between a customer and the network's administrators. */
  async openSupport(networkId: string, customerId: string, startedBy: Actor): Promise<Conversation> {
    await this.checkSupport(networkId, customerId);
    const key = supportKey(networkId, customerId);
    const existing = await ConversationModel.findById(conversationIdForKey(key)).lean<Conversation>();
    const conversation =
      existing ??
      (await this.claim({ key, networkId, kind: 'support', customerIds: [customerId], startedBy: startedBy.kind === 'admin' ? `admin:${startedBy.id}` : startedBy.id }));
    const ready = await this.rooms.ensureRoom(conversation);
    return existing ? ready : this.announceCreated(ready);
  }

  /**
   * chat.created for the participants (once per conversation, whichever opener gets here first):
   * the chat as GET /v1/chats lists it — the same for every participant, nothing read yet.
   */
  private async announceCreated(conversation: Conversation): Promise<Conversation> {
    const participants = await participantsOf([conversation]);
    const listItem = { ...chatWithParticipants(conversation, participants), unreadCount: 0 };
    await this.live.chatCreated(conversation, listItem);
    return conversation;
  }

  /** What openSupport decides, without opening anything (throws the same errors). */
  async checkSupport(networkId: string, customerId: string): Promise<void> {
    const network = await requireNetwork(networkId);
    const customer = await findCustomer(networkId, customerId);
    if (!customer) throw new NotFoundError('customer');
    const decision = decideSupportChat({ chatsEnabled: network.chatsEnabled, communityVisibility: network.communityVisibility }, customerFacts(customer));
    if (!decision.allowed) {
      if (decision.reason === 'chats_disabled') throw new ChatsDisabledError();
      throw new RecipientNotReachableError();
    }
  }

  /** What every chat route starts with (ConversationAccess.openForParticipant). */
  openForParticipant(chatId: string, actor: Actor, opts?: { fresh: boolean }): Promise<Conversation> {
    return this.access.openForParticipant(chatId, actor, opts);
  }

  /** Rule 1 (ConversationAccess.assertChatsEnabled). */
  assertChatsEnabled(networkId: string) {
    return this.access.assertChatsEnabled(networkId);
  }

  /**
   * Inserts the conversation under its unique key (its `_id` follows from the key). Concurrent
   * callers race on the unique index, never on a check-then-create: the loser reads the winner's
   * document.
   */
  private async claim(fields: { key: string; networkId: string; kind: 'direct' | 'support'; customerIds: string[]; startedBy: string }): Promise<Conversation> {
    let conversation: Conversation;
    try {
      const doc = await ConversationModel.create({ _id: conversationIdForKey(fields.key), ...fields, lastActivityAt: new Date() });
      conversation = doc.toObject() as Conversation;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
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
}
