import { LRUCache } from 'lru-cache';
import type { Logger } from '../../runtime';
import { conversationIdOfRoom, ConversationModel, findNetwork, isBlockedBy, isChatSuspended } from '../../store';
import { MatrixError, type MatrixApi } from '../matrix/matrixApi';
import { botUserId, parseVirtualUserId } from '../matrix/virtualUsers';
import type { ConversationService } from './conversationService';
import { MatrixInvites, REFUSAL } from './matrixInvites';

/**
 * The rules asked by the homeserver before it acts (Synapse's spam-checker callbacks, forwarded by
 * synapse-http-antispam to homeserverRulesRoutes.ts). Customers and administrators exist only in
 * rooms the service governs: rooms its bot created. A Matrix client may still create a room (rule
 * 10: that is how a Matrix client starts a chat, by inviting someone into it), but nobody can join
 * that room, and nothing can be said in it; an invite from it is checked by the same rules as the
 * portal, and an allowed one continues in a room of the service (matrixInvites.ts).
 *
 * Only our virtual users are governed; the bot and the homeserver's other accounts pass (server
 * admins skip these checks in Synapse anyway).
 */
/** Where the appservice answers them (synapse/synapseServer.ts points the module there). */
export const HOMESERVER_RULES_PATH = '/_coworking/homeserver-rules';

/** The answer when a rule could not be decided (see MatrixApi: the caller may try again). */
export const HOMESERVER_RULES_UNAVAILABLE = 'The coworking service could not check this just now; try again.';

export type RuleAnswer = { allowed: true } | { allowed: false; errcode: 'M_FORBIDDEN'; error: string };

export const HOMESERVER_REFUSAL = {
  suspended: "Your chats are suspended by the network's administrators.",
  notServiceRoom: 'Only the rooms of the coworking service can be joined.',
  nothingHere: 'Messages can only be sent in the conversations of the coworking service.',
  otherNetwork: 'This room belongs to another coworking network.',
  notInvited: 'Rooms of the coworking service are joined by invitation of the service.',
  serviceInvites: 'Only the coworking service invites people into its rooms.',
  noAliases: 'Room aliases are made by the coworking service only.',
  noDirectory: 'Rooms are not published on this server.',
  noThirdParty: 'Invitations by e-mail or phone are not available.',
} as const;

/** The bot's, or someone else's: a room's creator never changes. */
const creatorOfRoom = new LRUCache<string, string>({ max: 50_000 });
/** A conversation's network never changes either. */
interface RoomConversation {
  networkId: string;
  kind: 'direct' | 'support';
  customerIds: string[];
}
const conversationOfRoom = new LRUCache<string, RoomConversation>({ max: 50_000 });

const ALLOW: RuleAnswer = { allowed: true };
const refuse = (error: string): RuleAnswer => ({ allowed: false, errcode: 'M_FORBIDDEN', error });

export class HomeserverRules {
  private readonly bot: string;
  private readonly invites: MatrixInvites;

  constructor(
    private readonly api: MatrixApi,
    conversations: ConversationService,
    private readonly domain: string,
    private readonly log: Logger,
  ) {
    this.bot = botUserId(domain);
    this.invites = new MatrixInvites(api, conversations, domain, log);
  }

  /** A room of one's own carries nothing (see above); with chats off there is nothing to start. */
  async createRoom(userId: string): Promise<RuleAnswer> {
    const ref = parseVirtualUserId(userId, this.domain);
    if (!ref) return ALLOW;
    const network = await findNetwork(ref.networkId);
    return network?.chatsEnabled ? ALLOW : refuse(REFUSAL.chatsDisabled);
  }

  /**
   * Joins only rooms of the service, of one's own network, on the service's invitation (only the
   * bot may invite there) or as a member already (Synapse asks again when a joined member's
   * profile changes).
   */
  async joinRoom(userId: string, roomId: string, isInvited: boolean): Promise<RuleAnswer> {
    const ref = parseVirtualUserId(userId, this.domain);
    if (!ref) return ALLOW;
    if (!(await this.isServiceRoom(roomId))) return refuse(HOMESERVER_REFUSAL.notServiceRoom);
    const networkId = await this.networkOfConversationRoom(roomId);
    if (networkId !== null && networkId !== ref.networkId) return refuse(HOMESERVER_REFUSAL.otherNetwork);
    if (isInvited) return ALLOW;
    const member = await this.api.getState<{ membership?: string }>(roomId, 'm.room.member', userId).catch(() => null);
    return member?.membership === 'join' ? ALLOW : refuse(HOMESERVER_REFUSAL.notInvited);
  }

  /** Rule 10 up front: the portal's rules on who may message whom, before the invite exists. */
  async invite(inviterId: string, inviteeId: string, roomId: string): Promise<RuleAnswer> {
    if (inviterId === this.bot) return ALLOW;
    const inviter = parseVirtualUserId(inviterId, this.domain);
    const invitee = parseVirtualUserId(inviteeId, this.domain);
    if (!inviter) return invitee ? refuse(REFUSAL.foreign) : ALLOW;
    if (!invitee) return refuse(REFUSAL.foreign);
    if (await this.isServiceRoom(roomId)) return refuse(HOMESERVER_REFUSAL.serviceInvites);
    const outcome = await this.invites.check(inviterId, inviteeId);
    if (outcome.kind === 'allowed') return ALLOW;
    this.log.info({ roomId, inviterId, inviteeId, reason: outcome.reason }, 'invite refused at the homeserver');
    return refuse(outcome.reason);
  }

  thirdPartyInvite(inviterId: string): RuleAnswer {
    return parseVirtualUserId(inviterId, this.domain) ? refuse(HOMESERVER_REFUSAL.noThirdParty) : ALLOW;
  }

  /** Belt and braces: alias_creation_rules in homeserver.base.yaml already allow the bot only. */
  createAlias(userId: string): RuleAnswer {
    return userId === this.bot ? ALLOW : refuse(HOMESERVER_REFUSAL.noAliases);
  }

  /** Belt and braces: room_list_publication_rules already deny everyone. */
  publishRoom(userId: string): RuleAnswer {
    return userId === this.bot ? ALLOW : refuse(HOMESERVER_REFUSAL.noDirectory);
  }

  /**
   * Events from our users: none outside the service's rooms; none in a conversation of a network
   * whose chats are off (from the moment the setting changes, before the rooms turn read-only).
   * Redactions always pass: unsending only takes away. Memberships never come here (Synapse checks
   * them with joinRoom/invite, and strips per-room names: allow_per_room_profiles: false).
   */
  async event(event: { type?: unknown; sender?: unknown; room_id?: unknown }): Promise<RuleAnswer> {
    const sender = typeof event.sender === 'string' ? event.sender : '';
    const roomId = typeof event.room_id === 'string' ? event.room_id : '';
    const ref = parseVirtualUserId(sender, this.domain);
    if (!ref || event.type === 'm.room.redaction') return ALLOW;
    if (!(await this.isServiceRoom(roomId))) return refuse(HOMESERVER_REFUSAL.nothingHere);
    const conversation = await this.conversationOfRoom(roomId);
    if (conversation === null) return ALLOW;
    const network = await findNetwork(conversation.networkId);
    if (!network?.chatsEnabled) return refuse(REFUSAL.chatsDisabled);
    // Safety: a suspended customer sends nothing; a blocked one nothing to the blocker.
    if (ref.kind !== 'customer' || ref.networkId !== conversation.networkId) return ALLOW;
    const other = conversation.kind === 'direct' ? conversation.customerIds.find((id) => id !== ref.id) : undefined;
    const [suspended, blocked] = await Promise.all([isChatSuspended(ref.networkId, ref.id), other ? isBlockedBy(ref.networkId, other, ref.id) : false]);
    if (suspended) return refuse(HOMESERVER_REFUSAL.suspended);
    return blocked ? refuse(REFUSAL.notReachable) : ALLOW;
  }

  /** Created by the service's bot (which stays in every room it creates). */
  private async isServiceRoom(roomId: string): Promise<boolean> {
    if (!roomId) return false;
    let creator = creatorOfRoom.get(roomId);
    if (creator === undefined) {
      try {
        const create = await this.api.request<{ sender?: string }>('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.create/`, {
          query: { format: 'event' },
        });
        creator = create.sender ?? '';
      } catch (err) {
        // The bot is not in the room (403: asked again next time, a space the bot is still
        // creating reads so for a moment) or there is no such room (404): not the service's.
        if (!(err instanceof MatrixError && (err.status === 403 || err.status === 404))) throw err;
        return false;
      }
      creatorOfRoom.set(roomId, creator);
    }
    return creator === this.bot;
  }

  /** The network of the conversation whose room this is; null for a space (or a room not stored yet). */
  private async networkOfConversationRoom(roomId: string): Promise<string | null> {
    return (await this.conversationOfRoom(roomId))?.networkId ?? null;
  }

  /** What never changes about the conversation whose room this is (network, kind, customers). */
  private async conversationOfRoom(roomId: string): Promise<RoomConversation | null> {
    const known = conversationOfRoom.get(roomId);
    if (known !== undefined) return known;
    const chatId = await conversationIdOfRoom(roomId);
    if (!chatId) return null;
    const conversation = await ConversationModel.findById(chatId).select({ networkId: 1, kind: 1, customerIds: 1 }).lean<RoomConversation>();
    if (conversation) conversationOfRoom.set(roomId, { networkId: conversation.networkId, kind: conversation.kind, customerIds: conversation.customerIds });
    return conversation ?? null;
  }
}
