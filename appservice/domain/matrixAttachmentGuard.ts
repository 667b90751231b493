import { type Logger, AppError } from '../../runtime';
import { MatrixError, type MatrixApi, type MatrixEvent } from '../matrix/matrixApi';
import { botUserId } from '../matrix/virtualUsers';
import { attachmentPolicyOf, checkAttachmentType } from './attachmentPolicy';
import { conversationIdOfRoom } from '../../store';
import { ConversationModel } from '../../store';
import { networkOfTransaction } from './transactionReads';

const SNIFF_BYTES = 4100;
const MXC = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/;
const IMG_SRC = /<img\b[^>]*\bsrc\s*=\s*["']?(mxc:\/\/[^"'\s>]+)/gi;

/**
 * Every media a message event can make a Matrix client show: `url` (whatever the msgtype, m.text
 * included), an encrypted `file`, thumbnails in `info`, `<img>` in `formatted_body`, and all of
 * these again inside an edit's `m.new_content`.
 */
export function mediaReferences(content: Record<string, unknown> | undefined, depth = 0): string[] {
  if (!content || typeof content !== 'object' || depth > 2) return [];
  const found: unknown[] = [content.url, (content.file as { url?: unknown } | undefined)?.url];
  const info = content.info as Record<string, unknown> | undefined;
  if (info && typeof info === 'object') found.push(info.thumbnail_url, (info.thumbnail_file as { url?: unknown } | undefined)?.url);
  if (typeof content.formatted_body === 'string') for (const m of content.formatted_body.matchAll(IMG_SRC)) found.push(m[1]);
  const nested = mediaReferences(content['m.new_content'] as Record<string, unknown> | undefined, depth + 1);
  return [...new Set([...found.filter((u): u is string => typeof u === 'string'), ...nested])];
}
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
    /** How long one file may take to read; a file that cannot be read in time is refused. */
    private readonly checkTimeoutMs: number,
  ) {
    this.bot = botUserId(domain);
  }

  static referencesMedia(event: MatrixEvent): boolean {
    return mediaReferences(event.content).length > 0;
  }

  /** Returns the refusal reason when the attachment was removed, or null when it is allowed. */
  async enforce(event: MatrixEvent): Promise<string | null> {
    const chatId = await conversationIdOfRoom(event.room_id);
    if (!chatId) return null;
    const conversation = await ConversationModel.findById(chatId).select({ networkId: 1 }).lean();
    if (!conversation) return null;
    const network = await networkOfTransaction(conversation.networkId);
    const policy = attachmentPolicyOf(network ?? {});
    let refusal: string | null = null;
    for (const mxc of mediaReferences(event.content)) {
      refusal = await this.refusalFor(mxc, event.sender, policy);
      if (refusal) break;
    }
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
    const match = MXC.exec(mxc);
    if (!match) return 'the attachment link is not valid';
    // "Could not check" is a refusal: a file nobody could read in time is not let through, and one
    // slow file holds its room for at most checkTimeoutMs.
    const signal = AbortSignal.timeout(this.checkTimeoutMs);
    let head: Buffer;
    try {
      const read = await this.readHead(match[1]!, match[2]!, sender === this.bot ? this.bot : sender, policy.maxBytes, signal);
      if (read === 'too_large') return `the file is larger than ${policy.maxBytes} bytes`;
      head = read;
    } catch (err) {
      if (!signal.aborted && !(err instanceof MatrixError)) throw err;
      this.log.info({ mxc, err: (err as Error).message }, 'attachment could not be checked');
      return 'the attachment could not be checked';
    }
    const { fileTypeFromBuffer } = await import('file-type');
    const detected = await fileTypeFromBuffer(head);
    try {
      checkAttachmentType(policy, detected?.mime);
      return null;
    } catch (err) {
      if (err instanceof AppError) return err.message;
      throw err;
    }
  }

  /** The first bytes of the file (to sniff its type) after reading it whole to know its size. */
  private async readHead(serverName: string, mediaId: string, asUser: string, maxBytes: number, signal: AbortSignal): Promise<Buffer | 'too_large'> {
    // Read as the sender: they can always read what they uploaded.
    const res = await this.api.downloadMedia(serverName, mediaId, asUser, signal);
    const head: Buffer[] = [];
    let headBytes = 0;
    let size = 0;
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) return 'too_large';
        if (headBytes < SNIFF_BYTES) {
          head.push(Buffer.from(value));
          headBytes += value.byteLength;
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    return Buffer.concat(head).subarray(0, SNIFF_BYTES);
  }
}
