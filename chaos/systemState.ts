import type { BenchStack } from '../bench/support/benchStack';
import { botUserId } from '../appservice/matrix/virtualUsers';
import { queueCounts, unfinishedJobs, type QueueCounts } from '../bench/support/queueState';
import { AppserviceTransactionModel } from '../store';
import { changedCollections, type Snapshot } from './dataSnapshot';

export { queueCounts, type QueueCounts };

/** Events per room on Synapse (read as the service bot, which is in every room the service made). */
export type RoomEventCounts = Map<string, number>;

/** Work that is still going on: jobs not finished, transactions Synapse pushed but not yet applied. */
export interface Pending {
  jobs: number;
  transactions: number;
}

export async function pendingWork(b: BenchStack): Promise<Pending> {
  const jobs = await unfinishedJobs(b);
  const transactions = await AppserviceTransactionModel.countDocuments({ processedAt: { $exists: false } });
  return { jobs, transactions };
}

/**
 * Every event of each room as the bot sees it (timeline and state, paged backwards to the start),
 * and the bot's joined rooms: a room made or changed behind the service's back shows up here even
 * when MongoDB does not move.
 */
export async function roomEventCounts(b: BenchStack, roomIds?: readonly string[]): Promise<RoomEventCounts> {
  const bot = botUserId(b.domain);
  const rooms = roomIds ?? ((await b.matrix.request<{ joined_rooms: string[] }>('GET', '/_matrix/client/v3/joined_rooms', { asUser: bot })).joined_rooms ?? []);
  const out: RoomEventCounts = new Map();
  if (!roomIds) out.set('(rooms the bot is in)', rooms.length);
  for (const roomId of [...rooms].sort()) {
    let count = 0;
    let from: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await b.matrix.messages(roomId, bot, { from, limit: 1000, dir: 'b' });
      count += res.chunk.length;
      if (!res.end || res.chunk.length === 0) break;
      from = res.end;
    }
    out.set(roomId, count);
  }
  return out;
}

/** "key (before→after)" for every count that differs. */
export function changedCounts(before: Map<string, number> | Record<string, number>, after: Map<string, number> | Record<string, number>): string[] {
  const a = before instanceof Map ? before : new Map(Object.entries(before));
  const z = after instanceof Map ? after : new Map(Object.entries(after));
  return [...new Set([...a.keys(), ...z.keys()])].filter((k) => (a.get(k) ?? 0) !== (z.get(k) ?? 0)).map((k) => `${k} (${a.get(k) ?? 0}→${z.get(k) ?? 0})`);
}

export interface SystemState {
  data: Snapshot;
  rooms: RoomEventCounts;
  queues: QueueCounts;
}

/** What changed between two states: MongoDB collections, Synapse rooms, queue jobs. */
export function changedState(before: SystemState, after: SystemState): { data: string[]; rooms: string[]; queues: string[] } {
  return { data: changedCollections(before.data, after.data), rooms: changedCounts(before.rooms, after.rooms), queues: changedCounts(before.queues, after.queues) };
}

/**
 * Waits until the system is quiet — no unfinished job, no unprocessed transaction, and the state
 * read twice, STABLE_MS apart, the same — and returns that state. Throws when it does not settle
 * within timeoutMs: a check on a moving system proves nothing.
 */
export async function quietState(b: BenchStack, read: () => Promise<SystemState>, timeoutMs = 120000): Promise<SystemState & { waitedMs: number }> {
  const STABLE_MS = 2000;
  const started = Date.now();
  let last: SystemState | null = null;
  let lastPending: Pending = { jobs: -1, transactions: -1 };
  for (;;) {
    lastPending = await pendingWork(b);
    if (lastPending.jobs === 0 && lastPending.transactions === 0) {
      const now = await read();
      if (last) {
        const diff = changedState(last, now);
        if (diff.data.length + diff.rooms.length + diff.queues.length === 0) return { ...now, waitedMs: Date.now() - started };
      }
      last = now;
    } else {
      last = null;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`the system did not become quiet in ${timeoutMs / 1000} s (${lastPending.jobs} unfinished jobs, ${lastPending.transactions} unprocessed transactions)`);
    }
    await new Promise((r) => setTimeout(r, last ? STABLE_MS : 500));
  }
}
