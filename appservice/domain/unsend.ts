import { createHash } from 'node:crypto';
import { ForbiddenError, NotFoundError } from '../../runtime';
import type { MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';
import { forgetUnsentMessage } from './adminNotifications';
import type { LiveEventPublisher } from '../../live';

/**
 * Rule 8: the sender of a message, and only the sender, can unsend it. It becomes a Matrix
 * redaction sent as the sender's own virtual user, so every Matrix client drops it too.
 */
export class Unsend {
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
    private readonly live: LiveEventPublisher,
  ) {}

  async unsend(conversation: Conversation, actor: Actor, messageId: string): Promise<void> {
    const { roomId, userId: sender } = await this.conversations.rooms.enterRoom(conversation, actor);
    const event = await this.api.getEvent(roomId, messageId, sender);
    if (!event || event.type !== 'm.room.message') throw new NotFoundError('message');
    if (event.sender !== sender) throw new ForbiddenError('only the sender can unsend a message');
    // Unsending twice is not an error: the message is gone either way.
    if (event.unsigned?.redacted_because || Object.keys(event.content ?? {}).length === 0) return;
    // Deterministic transaction id: a retried unsend reaches Synapse as the same redaction.
    const txnId = `u.${createHash('sha256').update(`${roomId}|${messageId}`).digest('hex').slice(0, 40)}`;
    await this.api.redact(roomId, messageId, txnId, sender);
    // At once, as a send is; the redaction coming back through the appservice is the same event.
    await this.live.messageDeleted(conversation, messageId);
    await forgetUnsentMessage(conversation.networkId, messageId);
  }
}
