import { LRUCache } from 'lru-cache';
import type { Logger } from '../../runtime';
import { conversationIdOfRoom, ConversationModel } from '../../store';
import { networkOfTransaction } from './transactionReads';
import type { MatrixApi, MatrixEvent } from '../matrix/matrixApi';

/** A conversation's network never changes: room → network id, remembered. */
const networkOfRoom = new LRUCache<string, string>({ max: 50_000 });

/**
 * Rule 1 on events from Matrix clients, without waiting for the toggle's fan-out: the rooms turn
 * read-only through a queued job, and until it has reached a room (or while the workers or Redis
 * are down) Synapse still accepts messages there. A message in a conversation of a network whose
 * chats are off is removed (redacted with the reason) and never indexed or notified.
 */
export class MatrixChatsOff {
  constructor(
    private readonly api: MatrixApi,
    private readonly log: Logger,
  ) {}

  /** True when the message was removed. */
  async enforce(event: MatrixEvent): Promise<boolean> {
    const networkId = await this.networkOf(event.room_id);
    if (!networkId) return false;
    const network = await networkOfTransaction(networkId);
    if (!network || network.chatsEnabled) return false;
    // Sent before chats were turned off (and processed late): it stands.
    if (network.chatsToggledAt && event.origin_server_ts < new Date(network.chatsToggledAt).getTime()) return false;
    this.log.info({ eventId: event.event_id, sender: event.sender, networkId }, 'removing a message sent while chats are off');
    await this.api.redact(event.room_id, event.event_id, `chats-off.${event.event_id}`, undefined, 'Chats are disabled for this network.');
    return true;
  }

  private async networkOf(roomId: string): Promise<string | null> {
    const known = networkOfRoom.get(roomId);
    if (known) return known;
    const chatId = await conversationIdOfRoom(roomId);
    if (!chatId) return null;
    const conversation = await ConversationModel.findById(chatId).select({ networkId: 1 }).lean();
    if (conversation) networkOfRoom.set(roomId, conversation.networkId);
    return conversation?.networkId ?? null;
  }
}
