import { createHash } from 'node:crypto';
import type { MatrixEvent } from '../matrix/matrixApi';
import { parseVirtualUserId } from '../matrix/virtualUsers';
import type { IndexedConversation } from './messageIndex';
import { EmailDigestHeadModel, EmailDigestModel, OPEN_DIGEST_STATUSES, type PersonKind } from '../../store';
import { administratorsOfTransaction, customerOfTransaction, notificationSettingsOfTransaction } from './transactionReads';

/**
 * Where batched notification emails start: every message the index placed in a conversation (sent
 * from the portal or from a Matrix client alike) opens an email window for each recipient who wants
 * email, unless one is already open for them, in which case the conversation joins it. The window
 * is written to the store (email_digests) like the webhook outbox: the appservice holds no queue;
 * the workers' relay turns each pending window into a delayed BullMQ job (job id = window id,
 * provisioning/jobs/emailDigests.ts), which decides at the due time what is still unread.
 *
 * Events of one network are applied one at a time (transactionProcessor.ts lanes), and every
 * recipient of a conversation belongs to its network, so "find the open window, else create one"
 * does not race with itself. The newest window is found through the person's head document
 * (lookups by `_id` only, which FerretDB serves from an index). A replayed event finds the window
 * it opened (same id).
 */

interface Recipient {
  kind: PersonKind;
  id: string;
}

export async function openEmailDigestWindows(event: MatrixEvent, domain: string, conversation: IndexedConversation): Promise<void> {
  const sender = parseVirtualUserId(event.sender, domain);
  if (!sender) return;
  const recipients = await recipientsOf(conversation, sender);
  const at = new Date(event.origin_server_ts);
  for (const r of recipients) {
    const settings = await notificationSettingsOfTransaction(conversation.networkId, r.kind, r.id);
    if (!settings.email || settings.emailEnabled === false || (settings.mutedChatIds ?? []).includes(conversation._id)) continue;
    const personKey = settings._id;
    // The person's newest window, by `_id` lookups only (email_digest_heads).
    const head = await EmailDigestHeadModel.findById(personKey).lean();
    const newest = head ? await EmailDigestModel.findById(head.digestId).select({ chatIds: 1, status: 1, closedAt: 1 }).lean() : null;
    if (newest && OPEN_DIGEST_STATUSES.includes(newest.status)) {
      if (!newest.chatIds.includes(conversation._id)) await EmailDigestModel.updateOne({ _id: newest._id }, { $addToSet: { chatIds: conversation._id } });
      continue;
    }
    const digestId = emailDigestId(personKey, event.event_id);
    // A replayed event finds its own window (same id) as the newest: nothing changes.
    if (newest?._id === digestId) continue;
    await EmailDigestModel.updateOne(
      { _id: digestId },
      {
        $setOnInsert: {
          personKey,
          networkId: conversation.networkId,
          personKind: r.kind,
          personId: r.id,
          openedAt: at,
          delayMinutes: settings.delayMinutes ?? 10,
          chatIds: [conversation._id],
          status: 'pending',
          attempts: 0,
          ...(newest?.closedAt ? { coversAfter: newest.closedAt } : {}),
        },
      },
      { upsert: true },
    );
    // After the window exists: a crash in between leaves the old head, and the replay writes both.
    await EmailDigestHeadModel.updateOne({ _id: personKey }, { $set: { digestId } }, { upsert: true });
  }
}

/** Who a message is for: the conversation's other customers, and in a support chat its administrators. */
async function recipientsOf(conversation: IndexedConversation, sender: { kind: string; id: string }): Promise<Recipient[]> {
  const customers = conversation.customerIds.filter((id) => !(sender.kind === 'customer' && sender.id === id));
  const out: Recipient[] = [];
  for (const id of customers) {
    const customer = await customerOfTransaction(conversation.networkId, id);
    if (customer?.status === 'active') out.push({ kind: 'customer', id });
  }
  if (conversation.kind === 'support' && sender.kind === 'customer') {
    for (const admin of await administratorsOfTransaction(conversation.networkId)) out.push({ kind: 'admin', id: admin.adminId });
  }
  return out;
}

export function emailDigestId(personKey: string, eventId: string): string {
  return `ed_${createHash('sha256').update(`${personKey}|${eventId}`).digest('hex').slice(0, 32)}`;
}
