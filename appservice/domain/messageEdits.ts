import { createHash } from 'node:crypto';
import { AppError, ForbiddenError, NotFoundError } from '../../runtime';
import type { MatrixApi, MatrixEvent } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';
import type { ChatMessage } from './messageHistory';
import { isTextMsgtype, relationOf } from './messageRelations';

/**
 * Editing one's own text message from the portal: an `m.replace` sent as the sender's virtual
 * user, so Matrix clients show the new version too. Exactly once like a send (exactlyOnceSend.ts):
 * the edit's transaction id follows from the message, the version it replaces and the new text, so
 * a retried PATCH is the same edit, while editing back to an earlier text is a new one.
 */
export class MessageEdits {
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
  ) {}

  async edit(conversation: Conversation, actor: Actor, messageId: string, body: string): Promise<ChatMessage> {
    const { roomId, userId: sender } = await this.conversations.rooms.enterRoom(conversation, actor);
    const event = await this.api.getEvent(roomId, messageId, sender);
    const current = event ? this.conversations.history.toChatMessage(conversation._id, event) : null;
    // Unknown, unsent, or an edit event itself: not a message history shows.
    if (!event || !current) throw new NotFoundError('message');
    if (event.sender !== sender) throw new ForbiddenError('only the sender can edit a message');
    if (!isTextMsgtype(event.content.msgtype)) throw new AppError('invalid_request', 400, 'messageId: only text messages can be edited', { field: 'messageId' });
    if (current.body !== body) {
      const replaces = newestEditId(event) ?? messageId;
      const txnId = `edit:${createHash('sha256').update(`${messageId}|${replaces}|${body}`).digest('hex').slice(0, 40)}`;
      await this.conversations.sends.send(conversation, actor, txnId, {
        msgtype: 'm.text',
        // What clients without edit support show (the spec's fallback).
        body: `* ${body}`,
        'm.new_content': { msgtype: 'm.text', body },
        'm.relates_to': { rel_type: 'm.replace', event_id: messageId },
      });
    }
    return (await this.conversations.history.one(conversation, actor, messageId)) ?? current;
  }
}

function newestEditId(event: MatrixEvent): string | null {
  const edit = (event.unsigned?.['m.relations'] as Record<string, unknown> | undefined)?.['m.replace'] as MatrixEvent | undefined;
  return edit && relationOf(edit.type, edit.content)?.kind === 'edit' ? edit.event_id : null;
}
