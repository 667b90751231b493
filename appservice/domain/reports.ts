import { randomUUID } from 'node:crypto';
import { InvalidRequestError, NotFoundError } from '../../runtime';
import {
  ConversationModel,
  IndexedMessageModel,
  conversationIdOfRoom,
  findCustomer,
  findReport,
  liftChatSuspension,
  recordReport,
  recordReportAction,
  suspendChats,
  type ReportDoc,
  type ReportReason,
  type ReportStatus,
} from '../../store';
import type { MatrixApi, MatrixEvent } from '../matrix/matrixApi';
import { botUserId, parseVirtualUserId } from '../matrix/virtualUsers';
import type { Actor } from './conversation';
import type { ConversationAccess } from './conversationAccess';
import { recordReportNotification } from './adminNotifications';

/** The copy of a reported message kept as evidence. */
const EVIDENCE_LENGTH = 4000;
export const REMOVED_BY_MODERATION = "Removed by the network's administrators after a report";

export interface PortalReport {
  customerId?: string;
  chatId?: string;
  messageId?: string;
  reason: ReportReason;
  details?: string;
}

/** A Synapse event report (admin API `event_reports`). */
export interface MatrixEventReport {
  id: number;
  received_ts: number;
  room_id: string;
  event_id: string;
  user_id: string;
  reason?: string | null;
}

/**
 * Reports and moderation (Safety). A report names a person, a conversation or a message the
 * reporter can see; the network's administrators are notified; the reported person is told
 * nothing. Administrators resolve or dismiss it, and may remove the message for everyone (a
 * redaction by the service bot, with the reason) or suspend the customer's chats.
 */
export class Reports {
  private readonly bot: string;

  constructor(
    private readonly api: MatrixApi,
    private readonly access: ConversationAccess,
    private readonly domain: string,
  ) {
    this.bot = botUserId(domain);
  }

  async reportFromPortal(reporter: Actor, input: PortalReport): Promise<ReportDoc> {
    const networkId = reporter.networkId;
    let { customerId = null, chatId = null } = input;
    let messageText: string | null = null;
    if (input.messageId) {
      // A message is reported through a conversation the reporter takes part in, and nowhere else.
      const message = await this.reportedMessage(reporter, input.messageId, chatId);
      chatId = message.chatId;
      const sender = parseVirtualUserId(message.sender, this.domain);
      if (sender?.kind === 'customer') customerId ??= sender.id;
      messageText = message.text;
    } else if (chatId) {
      const conversation = await this.access.getForParticipant(chatId, reporter);
      customerId ??= conversation.customerIds.find((id) => id !== reporter.id) ?? null;
    }
    if (input.customerId && !(await findCustomer(networkId, input.customerId))) throw new NotFoundError('customer');
    if (!customerId && !chatId) throw new InvalidRequestError('customerId', 'name a customer, a chat or a message to report');
    const report: Omit<ReportDoc, 'status' | 'actions'> = {
      _id: `rep_${randomUUID()}`,
      networkId,
      source: 'portal',
      reporterId: reporter.id,
      customerId,
      chatId,
      messageId: input.messageId ?? null,
      messageText,
      reason: input.reason,
      details: input.details ?? null,
      createdAt: new Date(),
    };
    await recordReport(report);
    await recordReportNotification(report);
    return { ...report, status: 'open', actions: [] };
  }

  /** A report a Matrix client made (stored by Synapse); ignored when it is not about one of our conversations. */
  async importMatrixReport(r: MatrixEventReport): Promise<boolean> {
    const chatId = await conversationIdOfRoom(r.room_id);
    const reporter = parseVirtualUserId(r.user_id, this.domain);
    if (!chatId || !reporter || reporter.kind !== 'customer') return false;
    const conversation = await ConversationModel.findById(chatId).select({ networkId: 1, customerIds: 1 }).lean();
    if (!conversation || conversation.networkId !== reporter.networkId || !conversation.customerIds.includes(reporter.id)) return false;
    const event = await this.api.getEvent(r.room_id, r.event_id, this.bot);
    const sender = event ? parseVirtualUserId(event.sender, this.domain) : null;
    const indexed = await IndexedMessageModel.findById(r.event_id).select({ preview: 1 }).lean();
    const report: Omit<ReportDoc, 'status' | 'actions'> = {
      _id: `rep_matrix_${r.id}`,
      networkId: conversation.networkId,
      source: 'matrix',
      reporterId: reporter.id,
      customerId: sender?.kind === 'customer' ? sender.id : null,
      chatId,
      messageId: r.event_id,
      messageText: event ? textOf(event) ?? indexed?.preview ?? null : (indexed?.preview ?? null),
      reason: 'other',
      details: r.reason ? String(r.reason).slice(0, 2000) : null,
      createdAt: new Date(r.received_ts),
    };
    const created = await recordReport(report);
    if (created) await recordReportNotification(report);
    return created;
  }

  async moderate(
    networkId: string,
    reportId: string,
    adminId: string,
    decision: { status: Exclude<ReportStatus, 'open'>; action?: 'remove_message' | 'suspend_chats' | 'lift_suspension' },
  ): Promise<ReportDoc> {
    const report = await findReport(networkId, reportId);
    if (!report) throw new NotFoundError('report');
    if (decision.action === 'remove_message') {
      if (!report.messageId || !report.chatId) throw new InvalidRequestError('action', 'this report names no message');
      const conversation = await ConversationModel.findById(report.chatId).select({ roomId: 1 }).lean();
      if (!conversation?.roomId) throw new NotFoundError('chat');
      await this.api.redact(conversation.roomId, report.messageId, `moderation.${report._id}`, this.bot, REMOVED_BY_MODERATION);
    }
    if (decision.action === 'suspend_chats' || decision.action === 'lift_suspension') {
      if (!report.customerId) throw new InvalidRequestError('action', 'this report names no customer');
      if (decision.action === 'suspend_chats') await suspendChats(networkId, report.customerId, { adminId, reportId });
      else await liftChatSuspension(networkId, report.customerId);
    }
    const action = { adminId, at: new Date(), status: decision.status, ...(decision.action ? { action: decision.action } : {}) };
    await recordReportAction(report._id, action);
    return { ...report, status: decision.status, actions: [...(report.actions ?? []), action] };
  }

  /**
   * The reported message, from the index, or from Synapse when the index has not caught up yet (a
   * message reported the moment it arrived; then the report names its chat). Its text as Synapse has
   * it now (its latest edit), else the index's copy.
   */
  private async reportedMessage(reporter: Actor, messageId: string, chatId: string | null): Promise<{ chatId: string; sender: string; text: string | null }> {
    const indexed = await IndexedMessageModel.findById(messageId).lean();
    if (indexed && chatId && indexed.chatId !== chatId) throw new NotFoundError('message');
    const inChat = indexed?.chatId ?? chatId;
    if (!inChat) throw new NotFoundError('message');
    const conversation = await this.access.getForParticipant(inChat, reporter);
    if (!conversation.roomId) throw new NotFoundError('message');
    const event = await this.api.getEvent(conversation.roomId, messageId, this.bot).catch(() => null);
    if (!indexed && (!event || event.type !== 'm.room.message')) throw new NotFoundError('message');
    return { chatId: inChat, sender: indexed?.senderMatrixId ?? event!.sender, text: (event ? textOf(event) : null) ?? indexed?.preview ?? null };
  }
}

function textOf(event: MatrixEvent): string | null {
  const replaced = (event.unsigned as { 'm.relations'?: { 'm.replace'?: { content?: { 'm.new_content'?: { body?: unknown } } } } } | undefined)?.['m.relations']?.['m.replace']?.content?.['m.new_content']?.body;
  const body = typeof replaced === 'string' ? replaced : event.content?.body;
  return typeof body === 'string' ? body.slice(0, EVIDENCE_LENGTH) : null;
}
