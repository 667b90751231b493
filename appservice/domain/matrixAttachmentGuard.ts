import { type Logger, AppError } from '../../runtime';
import type { MatrixApi, MatrixEvent } from '../matrix/matrixApi';
import { botUserId } from '../matrix/virtualUsers';
import { attachmentPolicyOf, checkAttachmentType } from './attachmentPolicy';
import { conversationIdOfRoom } from '../../store';
import { ConversationModel, NetworkModel } from '../../store';

const SNIFF_BYTES = 4100;
const MEDIA_EVENT_TYPES = new Set(['m.file', 'm.image', 'm.video', 'm.audio']);

/**
 * Rule 7 for attachments sent from Matrix clients, which bypass the portal's upload checks.
 * Decision (README "Attachments from Matrix clients"): the service reads the media from Synapse,
 * checks its real type (magic bytes) and size against the network's policy, and when refused
 * redacts the message as the service bot with the reason, then posts a notice naming what the
 * network accepts. The file stays in Synapse's media store (it cannot be deleted by a non-admin)
 * but is no longer referenced by any visible message, and the portal refuses to serve it.
 */
export class MatrixAttachmentGuard {
  private readonly bot: string;

  constructor(
    private readonly api: MatrixApi,
    private readonly domain: string,
    private readonly log: Logger,
  ) {
    this.bot = botUserId(domain);
  }

  static isAttachment(event: MatrixEvent): boolean {
    return MEDIA_EVENT_TYPES.has(String(event.content?.msgtype)) && typeof event.content?.url === 'string';
  }

  /** Returns the refusal reason when the attachment was removed, or null when it is allowed. */
  async enforce(event: MatrixEvent): Promise<string | null> {
    const chatId = await conversationIdOfRoom(event.room_id);
    if (!chatId) return null;
    const conversation = await ConversationModel.findById(chatId).select({ networkId: 1 }).lean();
    if (!conversation) return null;
    const network = await NetworkModel.findById(conversation.networkId).select({ attachments: 1 }).lean();
    const policy = attachmentPolicyOf(network ?? {});
    const refusal = await this.refusalFor(String(event.content.url), event.sender, policy);
    if (!refusal) return null;
    this.log.info({ eventId: event.event_id, sender: event.sender, refusal }, 'removing an attachment sent from a Matrix client');
    await this.api.redact(event.room_id, event.event_id, `guard.${event.event_id}`, undefined, refusal);
    const accepted = policy.allowedTypes.length ? policy.allowedTypes.join(', ') : 'no attachments';
    await this.api.sendEvent(event.room_id, 'm.room.message', `guard-notice.${event.event_id}`, {
      msgtype: 'm.notice',
      body: `An attachment was removed: ${refusal}. This network accepts ${accepted} up to ${policy.maxBytes} bytes.`,
    });
    return refusal;
  }

  private async refusalFor(mxc: string, sender: string, policy: { allowedTypes: readonly string[]; maxBytes: number }): Promise<string | null> {
    const match = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(mxc);
    if (!match) return 'the attachment link is not valid';
    // Read as the sender: they can always read what they uploaded.
    const res = await this.api.downloadMedia(match[1]!, match[2]!, sender === this.bot ? this.bot : sender);
    const head: Buffer[] = [];
    let size = 0;
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > policy.maxBytes) return `the file is larger than ${policy.maxBytes} bytes`;
        if (Buffer.concat(head).length < SNIFF_BYTES) head.push(Buffer.from(value));
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    const { fileTypeFromBuffer } = await import('file-type');
    const detected = await fileTypeFromBuffer(Buffer.concat(head).subarray(0, SNIFF_BYTES));
    try {
      checkAttachmentType(policy, detected?.mime);
      return null;
    } catch (err) {
      if (err instanceof AppError) return err.message;
      throw err;
    }
  }
}
