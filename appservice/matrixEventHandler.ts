import { type Logger } from '../runtime';
import type { MatrixApi, MatrixEvent } from './matrix/matrixApi';
import { botUserId, parseVirtualUserId } from './matrix/virtualUsers';
import type { ConversationService } from './domain/conversationService';
import { forgetUnsentMessage, recordSupportMessageNotification } from './domain/adminNotifications';
import { indexEdit, indexMessage, indexReaction, indexRedaction, relatedEventPosition, type MessageIndexChange } from './domain/messageIndex';
import { relationOf } from './domain/messageRelations';
import { RedactionRules } from './domain/redactionRules';
import { UnsentRelations } from './domain/unsentRelations';
import { MatrixInvites } from './domain/matrixInvites';
import { MatrixAttachmentGuard } from './domain/matrixAttachmentGuard';
import { MatrixChatsOff } from './domain/matrixChatsOff';
import { MatrixNames } from './domain/matrixNames';
import { moveReadMarker } from './domain/readMarkers';
import { openEmailDigestWindows } from './domain/emailDigests';
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
  private readonly redactionRules: RedactionRules;
  private readonly unsentRelations: UnsentRelations;
  private readonly onIndexChange: (change: MessageIndexChange) => void;

  constructor(
    private readonly api: MatrixApi,
    conversations: ConversationService,
    private readonly domain: string,
    private readonly log: Logger,
    opts: {
      attachmentCheckTimeoutMs: number;
      /**
       * Told every change of what a message shows (created, edited, reactions, unsent), after the
       * index applied it: where the live event stream publishes `message.*` events. An event
       * replayed after a crash may tell the same change again.
       */
      onIndexChange?: (change: MessageIndexChange) => void;
    },
    private readonly announcements: LiveAnnouncements,
  ) {
    this.bot = botUserId(domain);
    this.invites = new MatrixInvites(api, conversations, domain, log.child({ module: 'matrixInvites' }));
    this.chatsOff = new MatrixChatsOff(api, log.child({ module: 'chatsOff' }));
    this.names = new MatrixNames(api, domain, log.child({ module: 'names' }));
    this.attachmentGuard = new MatrixAttachmentGuard(api, domain, log.child({ module: 'attachmentGuard' }), opts.attachmentCheckTimeoutMs);
    this.redactionRules = new RedactionRules(api);
    this.unsentRelations = new UnsentRelations(api, log.child({ module: 'unsentRelations' }));
    this.onIndexChange = opts.onIndexChange ?? (() => undefined);
  }

  /** Rooms share the processing by their sender's network, so one network's slow rooms stall no other. */
  readonly laneOf = (event: MatrixEvent): string => parseVirtualUserId(event.sender, this.domain)?.networkId ?? event.sender;

  readonly event = async (event: MatrixEvent): Promise<void> => {
    switch (event.type) {
      case 'm.room.message':
        return this.onMessage(event);
      // Stickers are not messages of the portal, but Matrix clients show them: their media is checked.
      case 'm.sticker':
        if (event.sender !== this.bot && !event.unsigned?.redacted_because) await this.attachmentGuard.enforce(event);
        return;
      case 'm.reaction':
        return this.onReaction(event);
      case 'm.room.redaction':
        return this.onRedaction(event);
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
    const relation = relationOf(event.type, event.content);
    // An edit is no new message: it changes one (or nothing, when it is not the sender's own).
    if (relation?.kind === 'edit') return this.changed(await indexEdit(event, relation));
    const indexed = await indexMessage(event, this.domain);
    if (!indexed) return;
    await this.announcements.messageIndexed(event, indexed.conversation);
    const notified = await recordSupportMessageNotification(event, this.domain, indexed.conversation);
    await this.announcements.notificationsCreated(indexed.conversation.networkId, notified);
    await openEmailDigestWindows(event, this.domain, indexed.conversation);
    this.changed(indexed.change);
  }

  private async onReaction(event: MatrixEvent): Promise<void> {
    if (event.unsigned?.redacted_because) return;
    const relation = relationOf(event.type, event.content);
    if (relation?.kind !== 'reaction') return;
    if (event.sender !== this.bot && (await this.chatsOff.enforce(event))) return;
    this.changed(await indexReaction(event, relation));
  }

  private async onRedaction(event: MatrixEvent): Promise<void> {
    const applied = await indexRedaction(event, this.domain, this.redactionRules);
    if (applied?.change.type === 'message.deleted') {
      // Unsent (in the portal or a Matrix client): the administrators' notification about it goes
      // too, and so do its edits and reactions in Matrix.
      if (applied.networkId) await forgetUnsentMessage(applied.networkId, applied.change.messageId);
      await this.unsentRelations.redactRelationsOf(event.room_id, applied.change.messageId, applied.unsentEditIds);
      await this.announcements.messageRedacted(applied.change.messageId, applied.change.chatId);
    }
    this.changed(applied?.change ?? null);
  }

  private changed(change: MessageIndexChange | null): void {
    if (!change) return;
    this.onIndexChange(change);
    // Created and deleted messages are announced above; edits and reactions here.
    if (change.type === 'message.updated') void this.announcements.messageUpdated(change.chatId, change.messageId).catch((err) => this.log.warn({ err: (err as Error).message }, 'could not announce a message update'));
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
      // Clients send receipts for the newest event they show, which may be an edit or a reaction.
      const position = message ? { chatId: message.chatId, at: message.sentAt } : await relatedEventPosition(eventId);
      if (!position) continue;
      for (const reader of ours) {
        if (await moveReadMarker(position.chatId, reader, eventId, position.at)) {
          await this.announcements.readMarkerMoved(position.chatId, { kind: reader.kind, id: reader.id }, eventId, position.at);
        }
      }
    }
  }
}
