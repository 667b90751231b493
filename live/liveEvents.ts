/**
 * The vocabulary of the live event stream (API.md "Live events"): the event types, who receives an
 * event (a recipient: one customer or administrator of one network), and the ids events carry.
 */

export const LIVE_EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  'chat.created',
  'chat.updated',
  'chat.read',
  'typing',
  'features.changed',
  'notification.created',
  'resync',
  /** The first event of a stream opened without Last-Event-ID: its id is where the stream begins. */
  'stream.opened',
] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** One portal user who may listen: the stream of events is kept per recipient. */
export interface LiveRecipient {
  kind: 'customer' | 'admin';
  networkId: string;
  id: string;
}

/** What the publisher needs to know of a conversation to address its participants. */
export interface LiveConversation {
  _id: string;
  networkId: string;
  kind: 'direct' | 'support';
  customerIds: readonly string[];
}

/** An event as a listener receives it. `id` is the Redis stream entry id of the recipient's log. */
export interface LiveEvent {
  id: string;
  type: LiveEventType;
  data: unknown;
}

/**
 * The recipient's key in Redis names. Host ids may hold any printable character, so each part is
 * URI-encoded (no `:` or `}` survives), and the key is a hash tag: in a Redis Cluster a
 * recipient's log, channel and slots share one slot.
 */
export function recipientKey(r: LiveRecipient): string {
  return `{${r.kind === 'customer' ? 'c' : 'a'}:${encodeURIComponent(r.networkId)}:${encodeURIComponent(r.id)}}`;
}

export function recipientOfKey(key: string): LiveRecipient | null {
  const m = /^\{([ca]):([^:}]*):([^:}]*)\}$/.exec(key);
  if (!m) return null;
  return { kind: m[1] === 'c' ? 'customer' : 'admin', networkId: decodeURIComponent(m[2]!), id: decodeURIComponent(m[3]!) };
}

const EVENT_ID = /^(\d{1,20})-(\d{1,20})$/;

/** Whether a client's Last-Event-ID is one of ours (a stream entry id `<ms>-<seq>`). */
export function isEventId(id: string): boolean {
  return EVENT_ID.test(id);
}

/** Orders two stream entry ids (negative: a before b). */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}
