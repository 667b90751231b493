import { AppError } from '../../runtime';
import { MatrixError, type MatrixApi, type MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import type { Actor, Conversation } from './conversation';
import type { ConversationRooms } from './conversationRooms';

export interface ChatMessage {
  id: string;
  chatId: string;
  sender: { kind: 'customer' | 'admin' | 'service'; id: string | null };
  type: 'text' | 'file' | 'image';
  body: string;
  attachment?: { mediaId: string; name: string; mimeType?: string; size?: number };
  sentAt: string;
}

/** A conversation's messages, read from Synapse (the store of record) as the participant. */
export class MessageHistory {
  constructor(
    private readonly api: MatrixApi,
    private readonly rooms: ConversationRooms,
    private readonly domain: string,
  ) {}

  /** Messages newest first; redacted ones are left out. `from` is the cursor of the previous page. */
  async list(conversation: Conversation, actor: Actor, opts: { from?: string; limit: number }): Promise<{ messages: ChatMessage[]; nextCursor: string | null }> {
    const { roomId, userId } = await this.rooms.enterRoom(conversation, actor);
    let page;
    try {
      page = await this.api.messages(roomId, userId, {
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
    const messages = page.chunk.map((event) => this.toChatMessage(conversation._id, event)).filter((m): m is ChatMessage => m !== null);
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
}
