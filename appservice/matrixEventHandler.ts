import { type Logger } from '../runtime';
import type { MatrixApi, MatrixEvent } from './matrix/matrixApi';
import { botUserId, parseVirtualUserId } from './matrix/virtualUsers';
import type { ConversationService } from './domain/conversationService';
import { forgetUnsentMessage, recordSupportMessageNotification } from './domain/adminNotifications';
import { indexMessage, indexRedaction, redactionTarget } from './domain/messageIndex';
import { MatrixInvites } from './domain/matrixInvites';
import { MatrixAttachmentGuard } from './domain/matrixAttachmentGuard';
import { MatrixChatsOff } from './domain/matrixChatsOff';
import { MatrixNames } from './domain/matrixNames';
import { moveReadMarker } from './domain/readMarkers';
import type { EphemeralEvent, TransactionHandlers } from './transactionProcessor';
import type { LiveAnnouncements } from './domain/liveAnnouncements';
import { IndexedMessageModel } from '../store';

/**
 * What the service does with each event Synapse pushes. Every branch is idempotent: the
 * transaction processor may replay an event after a crash.
 */
export class MatrixEventHandler implements TransactionHandlers {
  private readonly bot: string;
  private readonly invites: MatrixInvites;
  private readonly attachmentGuard: MatrixAttachmentGuard;
  private readonly chatsOff: MatrixChatsOff;
  private readonly names: MatrixNames;

  constructor(
    private readonly api: MatrixApi,
    conversations: ConversationService,
    private readonly domain: string,
    private readonly log: Logger,
    opts: { attachmentCheckTimeoutMs: number },
    private readonly announcements: LiveAnnouncements,
  ) {
    this.bot = botUserId(domain);
    this.invites = new MatrixInvites(api, conversations, domain, log.child({ module: 'matrixInvites' }));
    this.chatsOff = new MatrixChatsOff(api, log.child({ module: 'chatsOff' }));
    this.names = new MatrixNames(api, domain, log.child({ module: 'names' }));
    this.attachmentGuard = new MatrixAttachmentGuard(api, domain, log.child({ module: 'attachmentGuard' }), opts.attachmentCheckTimeoutMs);
  }

  readonly event = async (event: MatrixEvent): Promise<void> => {
    switch (event.type) {
      case 'm.room.message':
        return this.onMessage(event);
      // Stickers are not messages of the portal, but Matrix clients show them: their media is checked.
      case 'm.sticker':
        if (event.sender !== this.bot && !event.unsigned?.redacted_because) await this.attachmentGuard.enforce(event);
        return;
      case 'm.room.redaction': {
        // Unsent in a Matrix client: the administrators' notification about it goes too.
        const chatId = await indexRedaction(event, this.domain);
        if (chatId) {
          await forgetUnsentMessage(redactionTarget(event)!);
          await this.announcements.messageRedacted(redactionTarget(event)!, chatId);
        }
        return;
      }
      case 'm.room.member':
        if (event.content?.membership === 'invite' && event.sender !== this.bot && parseVirtualUserId(event.state_key ?? '', this.domain)) {
          await this.invites.handleInvite(event.room_id, event.sender, event.state_key!);
        }
        if (event.content?.membership === 'join') await this.names.enforce(event);
        return;
    }
  };

  readonly ephemeral = async (event: EphemeralEvent): Promise<void> => {
    if (event.type === 'm.receipt' && event.content) await this.onReceipts(event.content);
    // Typing is not stored: the room's whole typing set goes to the participants' streams.
    if (event.type === 'm.typing' && event.room_id && Array.isArray(event.content?.user_ids)) {
      await this.announcements.typing(event.room_id, (event.content.user_ids as unknown[]).filter((u): u is string => typeof u === 'string'));
    }
  };

  private async onMessage(event: MatrixEvent): Promise<void> {
    if (event.unsigned?.redacted_because) return;
    if (event.sender !== this.bot && (await this.chatsOff.enforce(event))) return;
    if (event.sender !== this.bot && MatrixAttachmentGuard.referencesMedia(event)) {
      if (await this.attachmentGuard.enforce(event)) return;
    }
    const conversation = await indexMessage(event, this.domain);
    if (!conversation) return;
    await this.announcements.messageIndexed(event, conversation._id);
    const notified = await recordSupportMessageNotification(event, this.domain, conversation);
    await this.announcements.notificationsCreated(conversation.networkId, notified);
  }

  /**
   * Read receipts from Matrix clients move the participant's read marker, so reading in Element
   * clears the unread count in the portal too. Markers only move forward.
   */
  private async onReceipts(content: Record<string, unknown>): Promise<void> {
    for (const [eventId, receipts] of Object.entries(content)) {
      const readers = (receipts as Record<string, Record<string, unknown>>)?.['m.read'] ?? {};
      const ours = Object.keys(readers)
        .map((userId) => parseVirtualUserId(userId, this.domain))
        .filter((ref) => ref !== null);
      if (ours.length === 0) continue;
      const message = await IndexedMessageModel.findById(eventId).select({ chatId: 1, sentAt: 1 }).lean();
      if (!message) continue;
      for (const reader of ours) {
        if (await moveReadMarker(message.chatId, reader, eventId, message.sentAt)) {
          await this.announcements.readMarkerMoved(message.chatId, { kind: reader.kind, id: reader.id }, eventId, message.sentAt);
        }
      }
    }
  }
}
