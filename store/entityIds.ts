import { createHash } from 'node:crypto';

/**
 * Deterministic `_id`s for the documents the hot paths look up one by one. FerretDB (the offline
 * MongoDB) serves only `_id` equality from an index and scans for every other filter, so a customer,
 * an administrator or a conversation is always found by its `_id`; on MongoDB this costs nothing.
 * JSON arrays keep the parts apart whatever characters the host platform's ids contain.
 */

export function customerDocId(networkId: string, customerId: string): string {
  return JSON.stringify(['customer', networkId, customerId]);
}

export function adminDocId(networkId: string, adminId: string): string {
  return JSON.stringify(['admin', networkId, adminId]);
}

/** The parts of a customer or administrator `_id`; null for anything else. */
export function parseDocId(id: unknown): { kind: 'customer' | 'admin'; networkId: string; id: string } | null {
  if (typeof id !== 'string' || !id.startsWith('[')) return null;
  try {
    const parts = JSON.parse(id) as unknown;
    if (!Array.isArray(parts) || parts.length !== 3 || !parts.every((p) => typeof p === 'string')) return null;
    const [kind, networkId, entityId] = parts as string[];
    return kind === 'customer' || kind === 'admin' ? { kind, networkId: networkId!, id: entityId! } : null;
  } catch {
    return null;
  }
}

/**
 * A conversation's id follows from its unique key (conversationService.directKey / supportKey).
 * Same shape as the random ids before it (`ch_` + 16 base64url characters, which the chat routes
 * accept): 96 bits of SHA-256, far from any collision at any realistic number of conversations.
 */
export function conversationIdForKey(key: string): string {
  return `ch_${createHash('sha256').update(key).digest('base64url').slice(0, 16)}`;
}

/** The directory change record of a network's revision (directoryChanges.ts). */
export function directoryChangeId(networkId: string, revision: number): string {
  return JSON.stringify(['directory', networkId, revision]);
}

/**
 * The exactly-once record of a send made on someone's behalf (a message or an attachment): one per
 * (conversation, sender's Matrix id, client txnId).
 */
export function sendRecordId(chatId: string, senderMatrixId: string, txnId: string): string {
  return `${chatId}|${senderMatrixId}|${txnId}`;
}

/** An attachment as reachable through one conversation: a media id is never reachable through another. */
export function attachmentId(chatId: string, mediaId: string): string {
  return `${chatId}|${mediaId}`;
}

/** A participant's read marker in a conversation. */
export function readMarkerId(chatId: string, participant: { kind: 'customer' | 'admin'; id: string }): string {
  return `${chatId}|${participant.kind}:${participant.id}`;
}

/** A customer's block of another customer of the same network. */
export function customerBlockId(networkId: string, blockerId: string, blockedId: string): string {
  return JSON.stringify(['block', networkId, blockerId, blockedId]);
}
