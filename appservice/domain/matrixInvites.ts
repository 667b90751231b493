import { AppError, type Logger } from '../../runtime';
import type { MatrixApi } from '../matrix/matrixApi';
import { parseVirtualUserId, type VirtualUserRef } from '../matrix/virtualUsers';
import type { ChatPath } from './chatRules';
import { directKey } from './conversation';
import type { ConversationService } from './conversationService';
import { conversationIdOfRoom } from '../../store';
import { conversationIdForKey, BookingModel, ConversationModel, FeedPostModel } from '../../store';

/**
 * Rule 10: invites from Matrix clients to our virtual users, under the same rules as the portal.
 *
 * A Matrix client that invites a customer into a room it created is asking to start a direct chat.
 * When the rules allow it, the conversation opens in a room the service governs (created by the
 * service bot, so the chats toggle and room settings stay enforceable: in the client's own room its
 * creator would hold unlimited power) and the invitee leaves the client's room with a pointer to it.
 * When they do not, the invitee leaves with the reason, which never says which rule refused.
 */
export type InviteOutcome =
  | { kind: 'joined' }
  | { kind: 'redirected'; roomId: string }
  | { kind: 'refused'; reason: string };

export const REFUSAL = {
  foreign: 'Only people of the same coworking network on this server can message this person.',
  administrator: 'Administrators are reached through the support conversation of the portal.',
  notReachable: 'This person cannot be messaged.',
  chatsDisabled: 'Chats are disabled for this network.',
  existing: (roomId: string) => `You already have a conversation with this person: ${roomId}`,
  redirected: (roomId: string) => `This conversation continues in ${roomId}`,
} as const;

export class MatrixInvites {
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
    private readonly domain: string,
    private readonly log: Logger,
  ) {}

  /** `inviteeId` is one of our virtual users (the caller checks). */
  async handleInvite(roomId: string, inviterId: string, inviteeId: string): Promise<InviteOutcome> {
    const invitee = parseVirtualUserId(inviteeId, this.domain)!;
    if (await conversationIdOfRoom(roomId)) {
      // A room of ours (only the service bot may invite there).
      await this.api.join(roomId, inviteeId);
      return { kind: 'joined' };
    }
    const outcome = await this.decide(inviterId, invitee);
    const reason = outcome.kind === 'redirected' ? REFUSAL.redirected(outcome.roomId) : outcome.kind === 'refused' ? outcome.reason : '';
    this.log.info({ roomId, inviterId, inviteeId, outcome: outcome.kind, reason }, 'invite from a Matrix client');
    await this.api.leave(roomId, inviteeId, reason);
    return outcome;
  }

  /**
   * The same rules asked up front, by the homeserver before it delivers a Matrix client's invite
   * (homeserverRules.ts): nothing is opened; an allowed invite then reaches handleInvite.
   */
  async check(inviterId: string, inviteeId: string): Promise<{ kind: 'allowed' } | { kind: 'refused'; reason: string }> {
    const inviter = parseVirtualUserId(inviterId, this.domain);
    const invitee = parseVirtualUserId(inviteeId, this.domain);
    if (!inviter || !invitee || inviter.networkId !== invitee.networkId) return { kind: 'refused', reason: REFUSAL.foreign };
    if (invitee.kind === 'admin') return { kind: 'refused', reason: REFUSAL.administrator };
    try {
      if (inviter.kind === 'admin') {
        await this.conversations.checkSupport(invitee.networkId, invitee.id);
        return { kind: 'allowed' };
      }
      const paths = await chatPathsBetween(invitee.networkId, inviter.id, invitee.id);
      const { existing } = await this.conversations.checkDirect(inviter, invitee.id, paths);
      if (existing?.roomId) return { kind: 'refused', reason: REFUSAL.existing(existing.roomId) };
      return { kind: 'allowed' };
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) return { kind: 'refused', reason: refusal };
      throw err;
    }
  }

  private async decide(inviterId: string, invitee: VirtualUserRef): Promise<InviteOutcome> {
    const inviter = parseVirtualUserId(inviterId, this.domain);
    if (!inviter || inviter.networkId !== invitee.networkId) return { kind: 'refused', reason: REFUSAL.foreign };
    if (invitee.kind === 'admin') return { kind: 'refused', reason: REFUSAL.administrator };
    try {
      if (inviter.kind === 'admin') {
        const support = await this.conversations.openSupport(invitee.networkId, invitee.id, inviter);
        return { kind: 'redirected', roomId: support.roomId! };
      }
      const existing = await ConversationModel.findById(conversationIdForKey(directKey(invitee.networkId, inviter.id, invitee.id))).lean();
      if (existing?.roomId) return { kind: 'refused', reason: REFUSAL.existing(existing.roomId) };
      const paths = await chatPathsBetween(invitee.networkId, inviter.id, invitee.id);
      const conversation = await this.conversations.openDirect(inviter, invitee.id, paths);
      return { kind: 'redirected', roomId: conversation.roomId! };
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) return { kind: 'refused', reason: refusal };
      throw err;
    }
  }
}

/** The reason a rule's error gives a Matrix client (never which rule refused, beyond these). */
function refusalOf(err: unknown): string | null {
  if (err instanceof AppError && err.code === 'chats_disabled') return REFUSAL.chatsDisabled;
  if (err instanceof AppError && (err.code === 'recipient_not_reachable' || err.code === 'not_found')) return REFUSAL.notReachable;
  return null;
}

/** The recipient's latest posts looked at (each place posted at is one path). */
const FEED_POSTS_CONSIDERED = 200;

/** Every path the requester has to the recipient: the Community page, Feed posts, shared bookings. */
export async function chatPathsBetween(networkId: string, requesterId: string, recipientId: string): Promise<ChatPath[]> {
  const [posts, booking] = await Promise.all([
    FeedPostModel.find({ networkId, authorId: recipientId }).select({ authorId: 1, locationId: 1 }).sort({ postedAt: -1 }).limit(FEED_POSTS_CONSIDERED).lean(),
    BookingModel.findOne({ networkId, shared: true, participantIds: { $all: [requesterId, recipientId] } })
      .select({ participantIds: 1, shared: 1 })
      .lean(),
  ]);
  const paths: ChatPath[] = [{ type: 'community' }];
  // Each post is its own path: the rules decide which of them the requester can see.
  const placesPosted = new Set(posts.map((p) => p.locationId ?? null));
  for (const locationId of placesPosted) paths.push({ type: 'feed_post', authorId: recipientId, locationId });
  if (booking) paths.push({ type: 'booking', participantIds: booking.participantIds, shared: booking.shared });
  return paths;
}
