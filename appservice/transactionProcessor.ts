import type { Logger } from './logger';
import type { MatrixEvent } from './matrix/matrixApi';
import { AppserviceTransactionModel, ProcessedEventModel } from './domain/models';
import { isDatabaseError } from './domain/database';
import { UpstreamUnavailableError } from './errors';

const RETRY_AFTER_OUTAGE_MS = 1000;

export type EventHandler = (event: MatrixEvent) => Promise<void>;

/**
 * Applies stored appservice transactions to the service, one at a time and in arrival order (so
 * order is kept within every room). A transaction is stored before Synapse is acknowledged
 * (appserviceServer.ts); this loop picks up whatever is unprocessed, including what a crashed
 * process left behind. Each event is applied at most once: its event_id is recorded after its
 * handler succeeded, and handlers are idempotent for the crash between the two.
 */
export class TransactionProcessor {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly handle: EventHandler,
    private readonly log: Logger,
  ) {}

  /** Wakes the loop; returns when everything stored so far is processed. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain()
      .catch((err) => {
        // MongoDB or Synapse is down: nothing is marked processed; try again shortly.
        this.log.warn({ err: (err as Error).message }, 'transaction processing paused; retrying');
        setTimeout(() => void this.kick(), RETRY_AFTER_OUTAGE_MS).unref();
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
      for (;;) {
        if (this.stopped) return;
        const txn = await AppserviceTransactionModel.findOne({ processedAt: { $exists: false } })
          .sort({ createdAt: 1, _id: 1 })
          .lean();
        if (!txn) break;
        for (const event of JSON.parse(txn.eventsJson) as MatrixEvent[]) await this.applyOnce(event);
        await AppserviceTransactionModel.updateOne({ _id: txn._id }, { $set: { processedAt: new Date() } });
      }
    } while (this.again);
  }

  private async applyOnce(event: MatrixEvent): Promise<void> {
    if (!event?.event_id || (await ProcessedEventModel.exists({ _id: event.event_id }))) return;
    try {
      await this.handle(event);
    } catch (err) {
      if (isDatabaseError(err) || err instanceof UpstreamUnavailableError) throw err;
      // A failing event must not block every later one; it is logged with its id.
      this.log.error({ err, eventId: event.event_id, type: event.type }, 'event handler failed');
    }
    await ProcessedEventModel.updateOne(
      { _id: event.event_id },
      { $setOnInsert: { roomId: event.room_id } },
      { upsert: true },
    );
  }
}
