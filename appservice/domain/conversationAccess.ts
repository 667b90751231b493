import { LRUCache } from 'lru-cache';
import { ChatsDisabledError, NotFoundError, onceInRequest, sharedInRequest, startInRequest } from '../../runtime';
import { ConversationModel, findAdministrator, findCustomer, findNetwork, type NetworkDoc } from '../../store';
import type { Actor, Conversation } from './conversation';

/** Conversations whose room exists, kept in memory for the access checks of chat routes. */
const SETTLED_CONVERSATIONS = 10000;

/**
 * Who may use a conversation: chats on for the network (rule 1), and the caller takes part in it
 * (a customer of it, or an active administrator of its network for a support conversation).
 * Everyone else gets 404, also for other networks: the answer never tells a conversation exists.
 */
export class ConversationAccess {
  private readonly settled = new LRUCache<string, Conversation>({ max: SETTLED_CONVERSATIONS });

  /**
   * The conversation if `actor` takes part in it; 404 otherwise. With `fresh: false` the
   * conversation may come from this process's memory: what decides access (network, kind,
   * participants) and its room never change once the room exists, but its last message and
   * activity may be older than in the database.
   */
  async getForParticipant(chatId: string, actor: Actor, opts: { fresh: boolean } = { fresh: true }): Promise<Conversation> {
    const conversation = opts.fresh ? await this.load(chatId) : (this.settled.get(chatId) ?? (await this.load(chatId)));
    if (!conversation || conversation.networkId !== actor.networkId) throw new NotFoundError('chat');
    const participates = actor.kind === 'customer' ? conversation.customerIds.includes(actor.id) : conversation.kind === 'support';
    if (!participates) throw new NotFoundError('chat');
    // Only active people use their conversations: a deactivated customer's token (or a removed
    // administrator's) opens nothing, whatever it still says.
    const person = await findParticipant(actor);
    if (person?.status !== 'active') throw new NotFoundError('chat');
    return conversation;
  }

  /**
   * The conversation from this process's memory when `actor` takes part in it by what never
   * changes once its room exists (network, kind, participants); null when it is not in memory or
   * the actor is not one of its participants. Not an access check: the chats switch and the
   * caller's status are not read. For reads a route starts before its checks end, whose answer is
   * dropped unless the checks pass.
   */
  rememberedForParticipant(chatId: string, actor: Actor): (Conversation & { roomId: string }) | null {
    const conversation = this.settled.get(chatId);
    if (!conversation?.roomId || conversation.networkId !== actor.networkId) return null;
    const participates = actor.kind === 'customer' ? conversation.customerIds.includes(actor.id) : conversation.kind === 'support';
    return participates ? (conversation as Conversation & { roomId: string }) : null;
  }

  /**
   * What every chat route starts with: chats on, and the caller takes part (else 404). Both lookups
   * run side by side; a disabled network answers chats_disabled before anything else. Routes that
   * show the conversation itself ask for `fresh`.
   */
  async openForParticipant(chatId: string, actor: Actor, opts: { fresh: boolean } = { fresh: false }): Promise<Conversation> {
    const [enabled, conversation] = await Promise.allSettled([this.assertChatsEnabled(actor.networkId), this.getForParticipant(chatId, actor, opts)]);
    if (enabled.status === 'rejected') throw enabled.reason;
    if (conversation.status === 'rejected') throw conversation.reason;
    return conversation.value;
  }

  /** Rule 1; returns the network document, so callers need not read it again. */
  async assertChatsEnabled(networkId: string): Promise<NetworkDoc> {
    const network = await requireNetwork(networkId);
    if (!network.chatsEnabled) throw new ChatsDisabledError();
    return network;
  }

  private async load(chatId: string): Promise<Conversation | null> {
    const conversation = await ConversationModel.findById(chatId).lean<Conversation>();
    if (conversation?.roomId) this.settled.set(chatId, conversation);
    return conversation;
  }
}

/**
 * The customer or administrator an actor is, read once per request (the route table's status
 * check and the access check of the same request share the read).
 */
export function findParticipant(actor: Actor): Promise<{ status: string } | null> {
  return onceInRequest<{ status: string } | null>(`person:${actor.kind}:${actor.networkId}:${actor.id}`, () =>
    actor.kind === 'admin' ? findAdministrator(actor.networkId, actor.id) : findCustomer(actor.networkId, actor.id),
  );
}

/**
 * Starts reading the network for this request's chats check, beside the route table's own checks
 * (routes that neither write the network nor need it fresh after a write: the chat routes).
 */
export function prefetchNetwork(networkId: string): void {
  startInRequest(`network:${networkId}`, () => findNetwork(networkId));
}

export async function requireNetwork(networkId: string): Promise<NetworkDoc> {
  const network = await sharedInRequest(`network:${networkId}`, () => findNetwork(networkId));
  if (!network) throw new NotFoundError('network');
  return network;
}
