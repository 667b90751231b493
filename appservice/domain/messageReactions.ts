import { createHash, randomUUID } from 'node:crypto';
import { NotFoundError } from '../../runtime';
import { MatrixError, type MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';

/**
 * Reactions from the portal: an `m.annotation` sent as the caller's virtual user, and removed by
 * redacting it. Adding is idempotent through Synapse, which refuses a second identical reaction of
 * one sender (M_DUPLICATE_ANNOTATION): that answer means "already there"; within a process,
 * identical requests take turns so that Synapse sees them one after the other. Removing redacts every
 * reaction of the caller with that key, found through Synapse's relations API (not the index,
 * which may not have seen a reaction made a moment ago).
 */
export class MessageReactions {
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
  ) {}

  /** Reactions being added, per (message, sender, key): concurrent duplicates take turns. */
  private readonly adding = new Map<string, Promise<void>>();

  async react(conversation: Conversation, actor: Actor, messageId: string, key: string): Promise<void> {
    const { roomId, userId } = await this.shownMessage(conversation, actor, messageId);
    // Synapse checks for a duplicate before it stores the new reaction, not atomically with it, so
    // identical requests at the same moment go one after the other: the second meets the first.
    const turnKey = JSON.stringify([messageId, userId, key]);
    const previous = this.adding.get(turnKey) ?? Promise.resolve();
    const turn = previous.then(() => this.sendReaction(conversation, roomId, userId, messageId, key));
    const settled = turn.catch(() => undefined);
    this.adding.set(turnKey, settled);
    void settled.then(() => {
      if (this.adding.get(turnKey) === settled) this.adding.delete(turnKey);
    });
    return turn;
  }

  private async sendReaction(conversation: Conversation, roomId: string, userId: string, messageId: string, key: string): Promise<void> {
    const content = { 'm.relates_to': { rel_type: 'm.annotation', event_id: messageId, key } };
    try {
      await this.conversations.sends.sendWhileChatsOn(conversation, roomId, `react.${randomUUID()}`, content, userId, 'm.reaction');
    } catch (err) {
      if (err instanceof MatrixError && err.errcode === 'M_DUPLICATE_ANNOTATION') return;
      throw err;
    }
  }

  async unreact(conversation: Conversation, actor: Actor, messageId: string, key: string): Promise<void> {
    const { roomId, userId } = await this.shownMessage(conversation, actor, messageId);
    const mine = (await this.api.relations(roomId, messageId, 'm.annotation', userId)).filter(
      (e) => e.sender === userId && (e.content?.['m.relates_to'] as { key?: unknown } | undefined)?.key === key && !e.unsigned?.redacted_because,
    );
    for (const reaction of mine) {
      // Deterministic: a retried removal is the same redaction.
      const txnId = `unreact.${createHash('sha256').update(`${roomId}|${reaction.event_id}`).digest('hex').slice(0, 40)}`;
      await this.api.redact(roomId, reaction.event_id, txnId, userId);
    }
  }

  /** The caller's room, when `messageId` is a message its history shows (not unsent, not an edit). */
  private async shownMessage(conversation: Conversation, actor: Actor, messageId: string): Promise<{ roomId: string; userId: string }> {
    const entered = await this.conversations.rooms.enterRoom(conversation, actor);
    const event = await this.api.getEvent(entered.roomId, messageId, entered.userId);
    if (!event || !this.conversations.history.toChatMessage(conversation._id, event)) throw new NotFoundError('message');
    return entered;
  }
}
