import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { storeTicket, takeTicket } from './liveEventLog';

/** A ticket opens one stream within this many seconds (API.md: ≤ 60 s). */
export const TICKET_TTL_SECONDS = 60;

/**
 * Event tickets: a browser's EventSource cannot send an Authorization header, so the portal asks
 * for a single-use ticket (with its token) and puts it in the stream's URL. Redis holds only the
 * ticket's hash (a leaked Redis dump opens nothing); taking it deletes it in the same command.
 */
export async function issueEventTicket<T>(redis: Redis, holder: T): Promise<{ ticket: string; expiresIn: number }> {
  const ticket = randomBytes(32).toString('base64url');
  await storeTicket(redis, hashOf(ticket), holder, TICKET_TTL_SECONDS);
  return { ticket, expiresIn: TICKET_TTL_SECONDS };
}

/** The ticket's holder, once; null for an unknown, used or expired ticket. */
export async function redeemEventTicket<T>(redis: Redis, ticket: string): Promise<T | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(ticket)) return null;
  return takeTicket<T>(redis, hashOf(ticket));
}

function hashOf(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}
