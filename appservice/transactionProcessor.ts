import { type Logger, UpstreamUnavailableError, metrics, newRequestMemo, reportTransactionBacklog, withRequestMemo } from '../runtime';
import type { MatrixEvent } from './matrix/matrixApi';
import { RoomLanes } from './roomLanes';
import { AppserviceTransactionModel, ProcessedEventModel, findByIds, isDatabaseError, processedEventIds, type StoredTransaction } from '../store';

const RETRY_AFTER_OUTAGE_MS = 1000;
/** Rooms applied side by side, overall and per network (RoomLanes). */
const ROOM_CONCURRENCY = 64;
const ROOM_CONCURRENCY_PER_NETWORK = 8;
/** Stored transactions applied together when a backlog has built up. */
const TRANSACTIONS_PER_BATCH = 16;
/**
 * Events under way at once (memory bound): later batches go on while a slow room finishes an
 * earlier one. Counted in events, not batches: each stuck event can be in a batch of its own.
 */
const EVENTS_IN_FLIGHT = 5000;
/** Event types counted by name in chat_appservice_events_processed_total; any other is "other" (labels stay bounded). */
const COUNTED_TYPES = new Set([
  'm.room.message',
  'm.room.member',
  'm.room.redaction',
  'm.reaction',
  'm.room.encrypted',
  'm.room.create',
  'm.room.power_levels',
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.name',
  'm.room.topic',
  'm.room.avatar',
  'm.room.pinned_events',
  'm.space.child',
  'm.space.parent',
]);
const countedType = (type: unknown) => (typeof type === 'string' && COUNTED_TYPES.has(type) ? type : 'other');

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
  /** Whose share of the room concurrency an event uses (its sender's network); default: its room's. */
  laneOf?(event: MatrixEvent): string;
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
  /** Resolves the loop's wait for in-flight batches when a new transaction arrives. */
  private wake: (() => void) | null = null;
  /** Batches put their rooms' work in the lanes one after another, in arrival order. */
  private enqueued: Promise<unknown> = Promise.resolve();
  /** Events queued in the lanes and not recorded yet: a re-push of one is not queued twice. */
  private readonly queuedEventIds = new Set<string>();
  private readonly lanes = new RoomLanes({ total: ROOM_CONCURRENCY, perLane: ROOM_CONCURRENCY_PER_NETWORK });
  /** Transactions read and not marked processed yet (the metrics' backlog, with `pending`). */
  private transactionsUnderWay = 0;
  private readonly unreport: () => void;

  constructor(
    private readonly handlers: TransactionHandlers,
    private readonly log: Logger,
  ) {
    this.unreport = reportTransactionBacklog(() => this.pending.length + this.transactionsUnderWay);
  }

  /** Wakes the loop (with the id of a transaction just stored); resolves when the work is done. */
  process(txnId?: string): Promise<void> {
    if (txnId) this.pending.push(txnId);
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      this.wake?.();
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
    this.unreport();
    await this.running;
  }

  private async drain(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let failure: { err: unknown } | null = null;
    let eventsInFlight = 0;
    const track = (batch: Promise<void>, events: number) => {
      inFlight.add(batch);
      eventsInFlight += events;
      void batch.then(
        () => {
          inFlight.delete(batch);
          eventsInFlight -= events;
        },
        (err: unknown) => {
          inFlight.delete(batch);
          eventsInFlight -= events;
          failure ??= { err };
        },
      );
    };
    try {
      for (;;) {
        this.again = false;
        if (this.needsScan) {
          const leftovers = await AppserviceTransactionModel.find({ processedAt: { $exists: false } })
            .sort({ createdAt: 1, _id: 1 })
            .select({ _id: 1 })
            .lean();
          this.pending.unshift(...leftovers.map((t) => String(t._id)));
          this.needsScan = false;
        }
        while (this.pending.length > 0 && !this.stopped && !failure) {
          // A backlog is applied in batches: the events of consecutive transactions, in arrival
          // order, so more rooms run side by side while each room keeps its order.
          const ids = this.pending.slice(0, TRANSACTIONS_PER_BATCH);
          const found = await findByIds<StoredTransaction>(AppserviceTransactionModel, ids);
          const txns = ids.flatMap((id) => found.get(id) ?? []).filter((t) => !t.processedAt);
          this.pending.splice(0, ids.length);
          // The batch's rooms queue behind the same rooms of earlier batches (RoomLanes keeps each
          // room's order), and the loop goes on to the next batch meanwhile: a slow room holds up
          // only itself. A transaction is marked processed once all of its events are applied.
          if (txns.length > 0) {
            const events = txns.map((t) => JSON.parse(t.eventsJson) as MatrixEvent[]);
            this.transactionsUnderWay += txns.length;
            const batch = this.applyBatch(txns, events.flat());
            void batch.then(
              () => (this.transactionsUnderWay -= txns.length),
              () => (this.transactionsUnderWay -= txns.length),
            );
            track(batch, events.reduce((n, e) => n + e.length, 0));
          }
          while (eventsInFlight >= EVENTS_IN_FLIGHT) await Promise.race(inFlight).catch(() => undefined);
        }
        if (failure || this.stopped || (inFlight.size === 0 && !this.again && this.pending.length === 0)) break;
        // Wait for a batch to finish or a new transaction to arrive, whichever comes first.
        const wake = new Promise<void>((resolve) => (this.wake = resolve));
        await Promise.race([wake, ...[...inFlight].map((b) => b.catch(() => undefined))]);
        this.wake = null;
      }
    } finally {
      // Every batch started is finished (or failed) before the loop says it is done.
      await Promise.all([...inFlight].map((b) => b.catch(() => undefined)));
    }
    if (failure) throw (failure as { err: unknown }).err;
  }

  private async applyBatch(txns: Array<{ _id: string; ephemeralJson: string; createdAt?: Date }>, events: MatrixEvent[]): Promise<void> {
    await this.applyEvents(events);
    for (const txn of txns) {
      for (const ephemeral of JSON.parse(txn.ephemeralJson) as EphemeralEvent[]) await this.handlers.ephemeral(ephemeral);
    }
    const now = new Date();
    await Promise.all(txns.map((t) => AppserviceTransactionModel.updateOne({ _id: t._id }, { $set: { processedAt: now } })));
    // Lag: from the transaction stored on Synapse's push to all of its events applied.
    for (const t of txns) if (t.createdAt) metrics.transactionLag.observe(Math.max(0, now.getTime() - new Date(t.createdAt).getTime()) / 1000);
  }

  /**
   * Rooms are independent, so they are processed side by side; within a room events keep their
   * order. Events already applied (an earlier transaction carried them, or a run crashed before
   * recording them) are skipped.
   */
  private async applyEvents(events: MatrixEvent[]): Promise<void> {
    // Which events are done is read before the rooms' work is queued, and batches take turns at
    // this, so a later batch never queues a room's events ahead of an earlier batch's.
    const queued = this.enqueued.then(() => this.queueEvents(events));
    this.enqueued = queued.catch(() => undefined);
    const { applied, work } = await queued;
    try {
      await work;
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
    } finally {
      for (const event of applied) this.queuedEventIds.delete(event.event_id);
    }
  }

  private async queueEvents(events: MatrixEvent[]): Promise<{ applied: MatrixEvent[]; work: Promise<unknown> }> {
    const ids = events.map((e) => e?.event_id).filter((id): id is string => typeof id === 'string');
    const done = await processedEventIds(ids);
    const byRoom = new Map<string, MatrixEvent[]>();
    for (const event of events) {
      // The same event in two transactions (of this batch, or of one still under way) is applied once.
      if (!event?.event_id || done.has(event.event_id) || this.queuedEventIds.has(event.event_id)) {
        metrics.eventsProcessed.inc({ type: countedType(event?.type), outcome: 'skipped' });
        continue;
      }
      done.add(event.event_id);
      const list = byRoom.get(event.room_id) ?? [];
      list.push(event);
      byRoom.set(event.room_id, list);
    }
    const applied: MatrixEvent[] = [];
    for (const room of byRoom.values()) for (const event of room) this.queuedEventIds.add(event.event_id);
    // The batch's events share one memo (appservice/domain/transactionReads.ts), whichever lane runs them.
    const reads = newRequestMemo();
    const work = Promise.all(
      [...byRoom].map(([roomId, room]) =>
        this.lanes.run(roomId, this.handlers.laneOf?.(room[0]!) ?? roomId, () =>
          withRequestMemo(async () => {
            for (const event of room) {
              await this.applyOnce(event);
              applied.push(event);
            }
          }, reads),
        ),
      ),
    );
    // Events whose handler threw for good (database or Synapse down) are not recorded; the rest are.
    const failedOut = work.catch(() => undefined);
    void failedOut.then(() => {
      for (const room of byRoom.values()) for (const event of room) if (!applied.includes(event)) this.queuedEventIds.delete(event.event_id);
    });
    return { applied, work };
  }

  private async applyOnce(event: MatrixEvent): Promise<void> {
    const type = countedType(event.type);
    try {
      await this.handlers.event(event);
      metrics.eventsProcessed.inc({ type, outcome: 'applied' });
    } catch (err) {
      if (isDatabaseError(err) || err instanceof UpstreamUnavailableError) {
        metrics.eventsProcessed.inc({ type, outcome: 'retried' });
        throw err;
      }
      metrics.eventsProcessed.inc({ type, outcome: 'failed' });
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
