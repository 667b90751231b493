import { type Logger, UpstreamUnavailableError } from '../runtime';
import type { MatrixEvent } from './matrix/matrixApi';
import { AppserviceTransactionModel, ProcessedEventModel, isDatabaseError, processedEventIds } from '../store';

const RETRY_AFTER_OUTAGE_MS = 1000;
const ROOM_CONCURRENCY = 16;
/** Stored transactions applied together when a backlog has built up. */
const TRANSACTIONS_PER_BATCH = 16;

export interface EphemeralEvent {
  type: string;
  room_id?: string;
  content?: Record<string, unknown>;
}

export interface TransactionHandlers {
  /** Applied once per event_id; must be idempotent, for a crash before the ids are recorded. */
  event(event: MatrixEvent): Promise<void>;
  /** Typing and receipts: applied as they come; handlers must be idempotent. */
  ephemeral(event: EphemeralEvent): Promise<void>;
}

/**
 * Applies stored appservice transactions to the service, one at a time and in arrival order (so
 * order is kept within every room; different rooms of a transaction run side by side). A
 * transaction is stored before Synapse is acknowledged (transactionListener.ts); this loop picks up
 * whatever is unprocessed, including what a crashed process left behind. The event_ids of a
 * transaction are recorded once its handlers succeeded (an event seen again in a later transaction
 * is skipped); handlers are idempotent for a crash before that.
 */
export class TransactionProcessor {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Transactions this process stored, in arrival order: looked up by _id, never by a scan. */
  private readonly pending: string[] = [];
  /**
   * Whether stored-but-unprocessed transactions may exist that `pending` does not know: at start
   * (a crash left them) and after an outage. Only then is the collection scanned.
   */
  private needsScan = true;

  constructor(
    private readonly handlers: TransactionHandlers,
    private readonly log: Logger,
  ) {}

  /** Wakes the loop (with the id of a transaction just stored); resolves when the work is done. */
  process(txnId?: string): Promise<void> {
    if (txnId) this.pending.push(txnId);
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain()
      .catch((err) => {
        // MongoDB or Synapse is down: nothing is marked processed; try again shortly.
        this.needsScan = true;
        this.log.warn({ err: (err as Error).message }, 'transaction processing paused; retrying');
        setTimeout(() => void this.process(), RETRY_AFTER_OUTAGE_MS).unref();
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      if (this.needsScan) {
        const leftovers = await AppserviceTransactionModel.find({ processedAt: { $exists: false } })
          .sort({ createdAt: 1, _id: 1 })
          .select({ _id: 1 })
          .lean();
        this.pending.unshift(...leftovers.map((t) => String(t._id)));
        this.needsScan = false;
      }
      while (this.pending.length > 0) {
        if (this.stopped) return;
        // A backlog is applied in batches: the events of consecutive transactions, in arrival
        // order, so more rooms run side by side while each room keeps its order.
        const ids = this.pending.slice(0, TRANSACTIONS_PER_BATCH);
        const txns = (await Promise.all(ids.map((id) => AppserviceTransactionModel.findById(id).lean()))).filter(
          (t): t is NonNullable<typeof t> => t !== null && !t.processedAt,
        );
        if (txns.length > 0) {
          await this.applyEvents(txns.flatMap((t) => JSON.parse(t.eventsJson) as MatrixEvent[]));
          for (const txn of txns) {
            for (const ephemeral of JSON.parse(txn.ephemeralJson) as EphemeralEvent[]) await this.handlers.ephemeral(ephemeral);
          }
          const now = new Date();
          await Promise.all(txns.map((t) => AppserviceTransactionModel.updateOne({ _id: t._id }, { $set: { processedAt: now } })));
        }
        this.pending.splice(0, ids.length);
      }
    } while (this.again);
  }

  /**
   * Rooms are independent, so they are processed side by side; within a room events keep their
   * order. Events already applied (an earlier transaction carried them, or a run crashed before
   * recording them) are skipped.
   */
  private async applyEvents(events: MatrixEvent[]): Promise<void> {
    const ids = events.map((e) => e?.event_id).filter((id): id is string => typeof id === 'string');
    const done = await processedEventIds(ids);
    const byRoom = new Map<string, MatrixEvent[]>();
    for (const event of events) {
      if (!event?.event_id || done.has(event.event_id)) continue;
      // The same event in two transactions of a batch is applied once.
      done.add(event.event_id);
      const list = byRoom.get(event.room_id) ?? [];
      list.push(event);
      byRoom.set(event.room_id, list);
    }
    const rooms = [...byRoom.values()];
    const applied: MatrixEvent[] = [];
    const lanes = Array.from({ length: Math.min(ROOM_CONCURRENCY, rooms.length) }, async () => {
      for (let room = rooms.shift(); room; room = rooms.shift()) {
        for (const event of room) {
          await this.applyOnce(event);
          applied.push(event);
        }
      }
    });
    await Promise.all(lanes);
    // Recorded together, in one round trip. A crash before this line replays the transaction's
    // events, which the handlers absorb (they are idempotent on event_id).
    if (applied.length > 0) {
      await ProcessedEventModel.insertMany(
        applied.map((e) => ({ _id: e.event_id, roomId: e.room_id })),
        { ordered: false },
      ).catch((err) => {
        // Already recorded (the same event in an earlier transaction, or a replay): that is the point.
        if (!isDuplicateKeyOnly(err)) throw err;
      });
    }
  }

  private async applyOnce(event: MatrixEvent): Promise<void> {
    try {
      await this.handlers.event(event);
    } catch (err) {
      if (isDatabaseError(err) || err instanceof UpstreamUnavailableError) throw err;
      // A failing event must not block every later one; it is logged with its id.
      this.log.error({ err, eventId: event.event_id, type: event.type }, 'event handler failed');
    }
  }
}

/** A bulk insert whose only failures are duplicate keys. */
function isDuplicateKeyOnly(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number; err?: { code?: number } }> };
  if (e.code === 11000 && !e.writeErrors) return true;
  return Array.isArray(e.writeErrors) && e.writeErrors.length > 0 && e.writeErrors.every((w) => (w.code ?? w.err?.code) === 11000);
}
