import { ConflictError, NotFoundError } from '../../runtime';
import { MatrixError, type MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';
import { attachmentMsgtype } from './attachmentPolicy';
import { IndexedMessageModel, AttachmentModel, AttachmentSendModel, attachmentId, sendRecordId } from '../../store';

/**
 * Attachments of a conversation: stored in Synapse's media repository (uploaded as the sender),
 * announced by an m.file / m.image message, and downloadable only through a conversation whose
 * messages reference them. Policy checks (attachmentPolicy.ts) happen before anything is uploaded.
 */


/** Synapse's upload limit is read again after this long (an operator may change max_upload_size). */
const UPLOAD_LIMIT_TTL_MS = 10 * 60 * 1000;

/** A claim older than this is taken over: its process died between upload and send. */
const CLAIM_TTL_MS = 60000;
const CLAIM_POLL_MS = 100;

export interface AcceptedFile {
  data: Buffer;
  name: string;
  mimeType: string;
}

export interface MediaDownload {
  name: string;
  response: Response;
}

export class Attachments {
  private uploadLimit: { bytes: number | null; readAt: number } | null = null;

  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
    private readonly domain: string,
  ) {}

  /**
   * The largest file Synapse stores (`m.upload.size` of /_matrix/client/v1/media/config), or null
   * when it sets none. No network's limit reaches past it: a larger file would be a 413 from Synapse
   * after the whole upload.
   */
  async homeserverUploadLimit(): Promise<number | null> {
    if (this.uploadLimit && Date.now() - this.uploadLimit.readAt < UPLOAD_LIMIT_TTL_MS) return this.uploadLimit.bytes;
    const config = await this.api.request<{ 'm.upload.size'?: number }>('GET', '/_matrix/client/v1/media/config');
    const bytes = typeof config['m.upload.size'] === 'number' ? config['m.upload.size'] : null;
    this.uploadLimit = { bytes, readAt: Date.now() };
    return bytes;
  }

  /** Uploads the (already checked) file as the sender and sends it; a repeated txnId sends once. */
  async send(conversation: Conversation, actor: Actor, txnId: string, file: AcceptedFile): Promise<{ messageId: string; mediaId: string }> {
    const sender = this.conversations.rooms.matrixUserOf(actor);
    const sendId = sendRecordId(conversation._id, sender, txnId);
    if (!(await claim(sendId))) return waitForSend(sendId);
    try {
      return await this.uploadAndSend(conversation, actor, txnId, sendId, file);
    } catch (err) {
      // Failed before the message existed: a retry may start over at once.
      await AttachmentSendModel.deleteOne({ _id: sendId, messageId: { $exists: false } }).catch(() => undefined);
      throw err;
    }
  }

  private async uploadAndSend(conversation: Conversation, actor: Actor, txnId: string, sendId: string, file: AcceptedFile) {
    const sender = this.conversations.rooms.matrixUserOf(actor);
    const contentUri = await this.api.uploadMedia(file.data, file.mimeType, file.name, sender);
    const { serverName, mediaId } = parseMxc(contentUri);
    const messageId = await this.conversations.sends.send(conversation, actor, txnId, {
      msgtype: attachmentMsgtype(file.mimeType),
      body: file.name,
      filename: file.name,
      url: contentUri,
      info: { mimetype: file.mimeType, size: file.data.length },
    });
    await AttachmentModel.updateOne(
      { _id: attachmentId(conversation._id, mediaId) },
      {
        $setOnInsert: {
          chatId: conversation._id,
          serverName,
          mediaId,
          messageId,
          name: file.name,
          mimeType: file.mimeType,
          size: file.data.length,
        },
      },
      { upsert: true },
    );
    await AttachmentSendModel.updateOne({ _id: sendId }, { $set: { messageId, mediaId } });
    return { messageId, mediaId };
  }

  /** The media if this conversation has a (not unsent) message referencing it; 404 otherwise. */
  async open(conversation: Conversation, actor: Actor, mediaId: string): Promise<MediaDownload> {
    const { roomId, userId: reader } = await this.conversations.rooms.enterRoom(conversation, actor);
    const record = (await AttachmentModel.findById(attachmentId(conversation._id, mediaId)).lean()) ?? (await this.fromIndex(conversation, mediaId));
    if (!record) throw new NotFoundError('attachment');
    const message = await this.api.getEvent(roomId, record.messageId, reader);
    if (!message || message.unsigned?.redacted_because || typeof message.content?.url !== 'string') {
      throw new NotFoundError('attachment');
    }
    try {
      return { name: record.name, response: await this.api.downloadMedia(record.serverName, record.mediaId, reader) };
    } catch (err) {
      if (err instanceof MatrixError && err.status === 404) throw new NotFoundError('attachment');
      throw err;
    }
  }

  /** Media sent from a Matrix client: referenced by a message of this conversation in the index. */
  private async fromIndex(conversation: Conversation, mediaId: string) {
    const message = await IndexedMessageModel.findOne({ chatId: conversation._id, mediaUrl: `mxc://${this.domain}/${mediaId}` }).lean();
    if (!message) return null;
    return { serverName: this.domain, mediaId, messageId: message._id, name: message.preview || mediaId };
  }
}

/** True when this request owns the send: a new claim, or one abandoned by a dead process. */
async function claim(sendId: string): Promise<boolean> {
  try {
    await AttachmentSendModel.create({ _id: sendId, claimedAt: new Date() });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  const stale = new Date(Date.now() - CLAIM_TTL_MS);
  const takeover = await AttachmentSendModel.updateOne(
    { _id: sendId, messageId: { $exists: false }, claimedAt: { $lt: stale } },
    { $set: { claimedAt: new Date() } },
  );
  return takeover.modifiedCount === 1;
}

/** The result of the request that owns the send (a retry after it finished gets it at once). */
async function waitForSend(sendId: string): Promise<{ messageId: string; mediaId: string }> {
  const deadline = Date.now() + CLAIM_TTL_MS;
  for (;;) {
    const send = await AttachmentSendModel.findById(sendId).lean();
    if (send?.messageId && send.mediaId) return { messageId: send.messageId, mediaId: send.mediaId };
    if (Date.now() > deadline) throw new ConflictError('a send with this txnId is still in progress; retry later');
    await new Promise((r) => setTimeout(r, CLAIM_POLL_MS));
  }
}

function parseMxc(uri: string): { serverName: string; mediaId: string } {
  const m = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(uri);
  if (!m) throw new Error(`not an mxc URI: ${uri}`);
  return { serverName: m[1]!, mediaId: m[2]! };
}
