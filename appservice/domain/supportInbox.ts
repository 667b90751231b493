
/**
 * The head of each network's support inbox: the ids of its most recently active support
 * conversations, newest first, kept in one document per network. The inbox's first pages are read
 * from it with lookups by `_id` only, so they cost the same with 100 or 100,000 support
 * conversations, on MongoDB and on FerretDB (which sorts a whole collection in memory for any
 * other query). Pages beyond the head fall back to the indexed query (chatRoutes.chatListPage).
 *
 * Writers (a message indexed, a support conversation opened) update it with optimistic
 * concurrency on `version`. A missing head is built from the query once. Replaying an event
 * applies the same update again, so a crash between the conversation's update and the head's is
 * repaired by the replay.
 */

/** Conversations kept in a head: ten pages of the portal's default size. */
export const INBOX_HEAD_SIZE = 200;
import { ConversationModel, SupportInboxHeadModel } from '../../store';
const MAX_ATTEMPTS = 20;


export interface InboxEntry {
  chatId: string;
  at: Date;
  /** The conversation's customers (they never change): a page looks them up alongside it. */
  customerIds?: string[];
}

interface InboxHead {
  _id: string;
  entries: InboxEntry[];
  complete: boolean;
  version: number;
}

/** Newest first; equal times by id, descending (the order of the inbox's cursor). */
function newerFirst(a: InboxEntry, b: InboxEntry): number {
  return b.at.getTime() - a.at.getTime() || (a.chatId < b.chatId ? 1 : a.chatId > b.chatId ? -1 : 0);
}

/** Places `chatId` at `at` (never earlier than it already was) in a head; null when nothing changes. */
export function withActivity(
  head: Pick<InboxHead, 'entries' | 'complete'>,
  chatId: string,
  at: Date,
  customerIds?: string[],
): Pick<InboxHead, 'entries' | 'complete'> | null {
  const existing = head.entries.find((e) => e.chatId === chatId);
  if (existing && existing.at.getTime() >= at.getTime() && (existing.customerIds || !customerIds)) return null;
  if (existing && existing.at.getTime() > at.getTime()) at = existing.at;
  const oldest = head.entries[head.entries.length - 1];
  // Not in the head and older than everything in a full head: it belongs further down the inbox.
  if (!existing && !head.complete && head.entries.length >= INBOX_HEAD_SIZE && oldest && newerFirst({ chatId, at }, oldest) > 0) {
    return null;
  }
  const entry: InboxEntry = { chatId, at, ...((customerIds ?? existing?.customerIds) ? { customerIds: customerIds ?? existing?.customerIds } : {}) };
  const entries = [...head.entries.filter((e) => e.chatId !== chatId), entry].sort(newerFirst);
  const complete = head.complete && entries.length <= INBOX_HEAD_SIZE;
  return { entries: entries.slice(0, INBOX_HEAD_SIZE), complete };
}

/** Updates of one network's head take turns within the process (see noteSupportActivity). */
const headWrites = new Map<string, Promise<void>>();

/**
 * Records that a support conversation's last activity moved to `at`. Idempotent.
 *
 * The compare-and-set on `version` is atomic on MongoDB; FerretDB 1.24 applies an update as
 * read-change-write, so two writers can both match the same version and the second undoes the
 * first (B4 measured 0% right answers with concurrent support rooms). So the writes of one network
 * take turns within the process (the appservice, which indexes every message, is the main writer),
 * and each write reads the head back: an update lost to another process is tried again.
 */
export function noteSupportActivity(networkId: string, chatId: string, at: Date, customerIds?: string[]): Promise<void> {
  const previous = headWrites.get(networkId) ?? Promise.resolve();
  const mine = previous.then(() => writeActivity(networkId, chatId, at, customerIds));
  const settled = mine.catch(() => undefined);
  headWrites.set(networkId, settled);
  void settled.then(() => {
    if (headWrites.get(networkId) === settled) headWrites.delete(networkId);
  });
  return mine;
}

async function writeActivity(networkId: string, chatId: string, at: Date, customerIds?: string[]): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const head = await readHead(networkId);
    const next = withActivity(head, chatId, at, customerIds);
    if (!next) return;
    const res = await SupportInboxHeadModel.updateOne({ _id: networkId, version: head.version }, { $set: { ...next, version: head.version + 1 } });
    // Read back: the update counts once the head holds it (another process may have written over it).
    if (res.matchedCount === 1 && !withActivity(await readHead(networkId), chatId, at, customerIds)) return;
  }
  // Lost every race: drop the head; the next reader rebuilds it from the conversations.
  await SupportInboxHeadModel.deleteOne({ _id: networkId });
}

/** The network's head, built from the conversations when there is none yet. */
export async function readHead(networkId: string): Promise<InboxHead> {
  for (;;) {
    const head = await SupportInboxHeadModel.findById(networkId).lean<InboxHead>();
    if (head) return head;
    const docs = await ConversationModel.find({ networkId, kind: 'support' })
      .sort({ lastActivityAt: -1, _id: -1 })
      .limit(INBOX_HEAD_SIZE + 1)
      .select({ _id: 1, lastActivityAt: 1, customerIds: 1 })
      .lean();
    const built: InboxHead = {
      _id: networkId,
      entries: docs.slice(0, INBOX_HEAD_SIZE).map((d) => ({ chatId: d._id, at: new Date(d.lastActivityAt), customerIds: d.customerIds })),
      complete: docs.length <= INBOX_HEAD_SIZE,
      version: 0,
    };
    try {
      await SupportInboxHeadModel.create(built);
      return built;
    } catch (err) {
      // Another process built it first: read theirs (it may already hold newer activity).
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }
}

/**
 * One inbox page from the head: after the cursor position `(at, chatId)` when given.
 * Null when the head cannot answer (the page reaches past a head that is not complete).
 */
export async function inboxPageFromHead(
  networkId: string,
  limit: number,
  after?: InboxEntry,
): Promise<{ entries: InboxEntry[]; more: boolean } | null> {
  const head = await readHead(networkId);
  const start = after ? head.entries.findIndex((e) => newerFirst(after, e) < 0) : 0;
  const rest = start < 0 ? [] : head.entries.slice(start);
  if (rest.length > limit) return { entries: rest.slice(0, limit), more: true };
  if (!head.complete) return null;
  return { entries: rest, more: false };
}
