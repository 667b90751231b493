import mongoose, { Schema } from 'mongoose';
import { NotFoundError } from '../errors';
import { MatrixError, type MatrixApi } from '../matrix/matrixApi';
import type { Actor, Conversation, ConversationService } from './conversationService';
import { attachmentMsgtype } from './attachmentPolicy';
import { IndexedMessageModel } from './messageIndex';

/**
 * Attachments of a conversation: stored in Synapse's media repository (uploaded as the sender),
 * announced by an m.file / m.image message, and downloadable only through a conversation whose
 * messages reference them. Policy checks (attachmentPolicy.ts) happen before anything is uploaded.
 */

const attachmentSchema = new Schema(
  {
    /** `<chatId>|<mediaId>`: a media id is only reachable through a conversation that references it. */
    _id: { type: String, required: true },
    chatId: { type: String, required: true },
    serverName: { type: String, required: true },
    mediaId: { type: String, required: true },
    messageId: { type: String, required: true },
    name: { type: String, required: true },
    mimeType: { type: String },
    size: { type: Number },
    /** Set for portal uploads: the sender's virtual user and the client's txnId. */
    sentBy: { type: String },
    txnId: { type: String },
  },
  { timestamps: true, versionKey: false },
);
attachmentSchema.index({ chatId: 1, sentBy: 1, txnId: 1 });

export const AttachmentModel = mongoose.model('Attachment', attachmentSchema, 'attachments');

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
  constructor(
    private readonly api: MatrixApi,
    private readonly conversations: ConversationService,
    private readonly domain: string,
  ) {}

  /** Uploads the (already checked) file as the sender and sends it; a repeated txnId sends once. */
  async send(conversation: Conversation, actor: Actor, txnId: string, file: AcceptedFile): Promise<{ messageId: string; mediaId: string }> {
    const sender = this.conversations.matrixUserOf(actor);
    // A retry after a completed send must not upload the file again.
    const known = await AttachmentModel.findOne({ chatId: conversation._id, sentBy: sender, txnId }).lean();
    if (known) return { messageId: known.messageId, mediaId: known.mediaId };
    const contentUri = await this.api.uploadMedia(file.data, file.mimeType, file.name, sender);
    const { serverName, mediaId } = parseMxc(contentUri);
    const messageId = await this.conversations.sendOnce(conversation, actor, txnId, {
      msgtype: attachmentMsgtype(file.mimeType),
      body: file.name,
      filename: file.name,
      url: contentUri,
      info: { mimetype: file.mimeType, size: file.data.length },
    });
    await AttachmentModel.updateOne(
      { _id: `${conversation._id}|${mediaId}` },
      {
        $setOnInsert: {
          chatId: conversation._id,
          serverName,
          mediaId,
          messageId,
          name: file.name,
          mimeType: file.mimeType,
          size: file.data.length,
          sentBy: sender,
          txnId,
        },
      },
      { upsert: true },
    );
    return { messageId, mediaId };
  }

  /** The media if this conversation has a (not unsent) message referencing it; 404 otherwise. */
  async open(conversation: Conversation, actor: Actor, mediaId: string): Promise<MediaDownload> {
    const room = await this.conversations.ensureRoom(conversation);
    const reader = this.conversations.matrixUserOf(actor);
    if (actor.kind === 'admin') await this.conversations.ensureJoined(room.roomId, reader);
    const record = (await AttachmentModel.findById(`${conversation._id}|${mediaId}`).lean()) ?? (await this.fromIndex(conversation, mediaId));
    if (!record) throw new NotFoundError('attachment');
    const message = await this.api.getEvent(room.roomId, record.messageId, reader);
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

function parseMxc(uri: string): { serverName: string; mediaId: string } {
  const m = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(uri);
  if (!m) throw new Error(`not an mxc URI: ${uri}`);
  return { serverName: m[1]!, mediaId: m[2]! };
}
