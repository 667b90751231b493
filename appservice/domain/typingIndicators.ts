import type { MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';

/** How long Synapse shows a participant as typing unless the portal says otherwise (Matrix clients use 30 s too). */
export const TYPING_TIMEOUT_MS = 30000;

/**
 * Typing from the portal: the participant's virtual user types in the room (Matrix typing API), so
 * Matrix clients show it; the stream learns of it when Synapse pushes the room's typing set back
 * (matrixEventHandler.ts), like any Matrix client's typing.
 */
export class TypingIndicators {
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
  ) {}

  async setTyping(conversation: Conversation, actor: Actor, typing: boolean): Promise<void> {
    const { roomId, userId } = await this.conversations.rooms.enterRoom(conversation, actor);
    await this.api.request('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(userId)}`, {
      asUser: userId,
      body: typing ? { typing: true, timeout: TYPING_TIMEOUT_MS } : { typing: false },
    });
  }
}
