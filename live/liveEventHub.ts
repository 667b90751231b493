import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Logger, reportLiveStreams } from '../runtime';
import {
  acquireSlot,
  channelMessageToRaw,
  channelOf,
  END_STREAMS,
  rawEventsAfter,
  streamStartId,
  refreshListeners,
  registerListener,
  releaseSlot,
  type RawLiveEvent,
} from './liveEventLog';
import { compareEventIds, isEventId, recipientKey, type LiveRecipient } from './liveEvents';

/**
 * Where a stream's events go (the portal API writes them to the response's socket). Events arrive
 * framed as server-sent events: `id:` (the recipient's log position, what Last-Event-ID resumes
 * from), `event:` (the type) and `data:` (one line of JSON). An event is framed once and the same
 * Buffer is written to every listener of its recipient in this process; a comment line is one
 * Buffer shared by all streams.
 */
export interface LiveSink {
  write(frame: Buffer): void;
  /** The stream ends (deactivated, token expired, or the process stops). */
  end(reason: string): void;
}

export interface LiveStream {
  readonly recipient: LiveRecipient;
  close(): Promise<void>;
}

/** A log position parsed once: `<ms>-<seq>`. */
interface EventPosition {
  ms: number;
  seq: number;
  text: string;
}

interface Framed {
  position: EventPosition;
  frame: Buffer;
  resync: boolean;
}

interface Attached {
  recipient: LiveRecipient;
  key: string;
  slotId: string;
  sink: LiveSink;
  /** When the stream's token expires (ms since the epoch); the hub's one timer ends it then. */
  expiresAt: number | undefined;
  /** The last event delivered; a later copy of it (or of anything before it) is never delivered. */
  last: EventPosition | null;
  /** While the log is being replayed, live events wait here, so nothing is delivered out of order. */
  buffer: Framed[] | null;
  closed: boolean;
}

export interface LiveHubOptions {
  /** Comment lines every so often (≤ 25 s) and the registrations' refresh. */
  heartbeatMs: number;
  /** Open streams one recipient may hold at once, across every process. */
  maxStreamsPerRecipient: number;
}

const KEEP_ALIVE = Buffer.from(': keep-alive\n\n');
/** How often the one expiry timer looks for streams whose token has expired. */
const EXPIRY_CHECK_MS = 1000;

/**
 * One API process's listeners. One Redis subscriber connection carries every channel this
 * process has a listener of (one subscription per listening recipient, not per stream); a channel
 * message is parsed and framed once and written to each of the recipient's streams, so the work
 * per event is O(its recipients' streams) and the per-stream state is one small record. It replays
 * a reconnecting listener's log from its Last-Event-ID before handing it live events, and drops
 * any event a listener already has, so every event reaches each listener once and in the log's
 * order. Nothing polls: one process-wide timer writes the keep-alive comment to every stream and
 * refreshes the registrations, another ends the streams whose token expired.
 */
export class LiveEventHub {
  private readonly subscriber: Redis;
  private readonly reader: Redis;
  private readonly byRecipient = new Map<string, Set<Attached>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private heartbeat: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** The earliest token expiry of an open stream (Infinity: none). */
  private nextExpiry = Infinity;
  private readyOnce = false;
  private unreport: (() => void) | null = null;

  constructor(
    redisUrl: string,
    private readonly log: Logger,
    private readonly opts: LiveHubOptions,
  ) {
    const options = { maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: (n: number) => Math.min(n * 200, 2000) };
    this.subscriber = new Redis(redisUrl, { ...options, lazyConnect: true });
    this.reader = new Redis(redisUrl, { ...options, lazyConnect: true });
    for (const c of [this.subscriber, this.reader]) c.on('error', (err) => this.log.warn({ err: err.message }, 'live events: redis connection error'));
    this.subscriber.on('message', (channel: string, message: string) => this.onChannelMessage(channel, message));
    // After a lost connection the subscriptions come back by themselves, but what was announced
    // meanwhile did not reach us: every listener catches up from the log.
    this.subscriber.on('ready', () => {
      if (this.readyOnce) void this.catchUpAll();
      this.readyOnce = true;
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.subscriber.connect(), this.reader.connect()]);
    this.heartbeat = setInterval(() => void this.beat(), this.opts.heartbeatMs);
    this.heartbeat.unref();
    this.expiryTimer = setInterval(() => this.endExpired(), Math.min(EXPIRY_CHECK_MS, this.opts.heartbeatMs));
    this.expiryTimer.unref();
    this.unreport = reportLiveStreams(() => this.size);
  }

  /** Both Redis connections of the hub are up (readiness; they reconnect by themselves). */
  get ready(): boolean {
    return this.subscriber.status === 'ready' && this.reader.status === 'ready';
  }

  /** Streams open in this process. */
  get size(): number {
    let n = 0;
    for (const set of this.byRecipient.values()) n += set.size;
    return n;
  }

  /**
   * Opens a stream: the recipient's slot (null when they already hold the maximum), their log,
   * the channel, then the replay of what they missed after `lastEventId`. `expiresAt` ends the
   * stream when the token it was opened with expires.
   */
  async open(recipient: LiveRecipient, opts: { lastEventId?: string; expiresAt?: number }, sink: LiveSink): Promise<LiveStream | null> {
    const slotId = randomUUID();
    if (!(await acquireSlot(this.reader, recipient, slotId, this.opts.maxStreamsPerRecipient, this.opts.heartbeatMs * 3))) return null;
    const key = recipientKey(recipient);
    const attached: Attached = { recipient, key, slotId, sink, expiresAt: opts.expiresAt, last: null, buffer: [], closed: false };
    try {
      await registerListener(this.reader, recipient);
      const set = this.byRecipient.get(key) ?? new Set<Attached>();
      this.byRecipient.set(key, set);
      set.add(attached);
      if (!this.subscribing.has(key)) this.subscribing.set(key, this.subscriber.subscribe(channelOf(key)));
      await this.subscribing.get(key);
      await this.replay(attached, opts.lastEventId);
    } catch (err) {
      await this.detach(attached);
      throw err;
    }
    if (opts.expiresAt !== undefined) this.nextExpiry = Math.min(this.nextExpiry, opts.expiresAt);
    return { recipient, close: () => this.detach(attached) };
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.unreport?.();
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    for (const set of this.byRecipient.values()) {
      for (const a of set) {
        a.sink.end('the server is stopping');
        await this.detach(a).catch(() => undefined);
      }
    }
    this.subscriber.disconnect();
    await this.reader.quit().catch(() => this.reader.disconnect());
  }

  private async replay(a: Attached, lastEventId: string | undefined): Promise<void> {
    if (lastEventId !== undefined) {
      const missed = await rawEventsAfter(this.reader, a.recipient, lastEventId);
      const waiting = a.buffer;
      a.buffer = null;
      if (missed.resync) {
        this.deliver(a, framed({ id: missed.resumeId, type: 'resync', json: '{}' }));
      } else {
        a.last = positionOf(lastEventId);
        for (const e of missed.events) this.deliver(a, framed(e));
      }
      a.buffer = waiting;
    } else {
      // A new stream says where it begins (read once subscribed: whatever is logged later comes
      // through the channel). A client that loses it before any other event resumes from there
      // instead of from whenever it reconnects, and misses nothing in between.
      const start = await streamStartId(this.reader, a.recipient);
      const waiting = a.buffer;
      a.buffer = null;
      this.deliver(a, framed({ id: start, type: 'stream.opened', json: '{}' }));
      a.buffer = waiting;
    }
    const waiting = a.buffer ?? [];
    a.buffer = null;
    for (const e of waiting) this.deliver(a, e);
  }

  private deliver(a: Attached, event: Framed): void {
    if (a.closed) return;
    if (a.buffer) {
      a.buffer.push(event);
      return;
    }
    if (a.last !== null && !event.resync && comparePositions(event.position, a.last) <= 0) return;
    a.last = event.position;
    a.sink.write(event.frame);
  }

  private onChannelMessage(channel: string, message: string): void {
    const key = channel.slice('live:ch:'.length);
    const set = this.byRecipient.get(key);
    if (!set) return;
    if (message === END_STREAMS) {
      for (const a of [...set]) {
        a.sink.end('the account is no longer active');
        void this.detach(a);
      }
      return;
    }
    const raw = channelMessageToRaw(message);
    if (!raw || !isEventId(raw.id)) return;
    const event = framed(raw);
    for (const a of set) this.deliver(a, event);
  }

  private async catchUpAll(): Promise<void> {
    for (const set of this.byRecipient.values()) {
      for (const a of set) {
        if (a.last === null || a.buffer) continue;
        a.buffer = [];
        await this.replay(a, a.last.text).catch((err) => {
          a.buffer = null;
          this.log.warn({ err: (err as Error).message }, 'live events: catch-up after reconnect failed');
        });
      }
    }
  }

  private async beat(): Promise<void> {
    const connected: Array<{ recipient: LiveRecipient; slotIds: string[] }> = [];
    for (const set of this.byRecipient.values()) {
      const slotIds: string[] = [];
      for (const a of set) {
        a.sink.write(KEEP_ALIVE);
        slotIds.push(a.slotId);
      }
      const first = set.values().next().value;
      if (first) connected.push({ recipient: first.recipient, slotIds });
    }
    await refreshListeners(this.reader, connected).catch((err) => this.log.warn({ err: (err as Error).message }, 'live events: heartbeat refresh failed'));
  }

  /** Ends the streams whose token has expired; the scan runs only when the earliest one is due. */
  private endExpired(): void {
    const now = Date.now();
    if (this.nextExpiry > now) return;
    let next = Infinity;
    for (const set of this.byRecipient.values()) {
      for (const a of [...set]) {
        if (a.expiresAt === undefined) continue;
        if (a.expiresAt <= now) {
          a.sink.end('the token has expired');
          void this.detach(a);
        } else if (a.expiresAt < next) next = a.expiresAt;
      }
    }
    this.nextExpiry = next;
  }

  private async detach(a: Attached): Promise<void> {
    if (a.closed) return;
    a.closed = true;
    a.buffer = null;
    const set = this.byRecipient.get(a.key);
    set?.delete(a);
    if (set && set.size === 0) {
      this.byRecipient.delete(a.key);
      this.subscribing.delete(a.key);
      await this.subscriber.unsubscribe(channelOf(a.key)).catch(() => undefined);
    }
    await releaseSlot(this.reader, a.recipient, a.slotId).catch(() => undefined);
  }
}

function framed(e: RawLiveEvent): Framed {
  // The data is JSON as JSON.stringify wrote it when published: one line, so one `data:` field.
  return { position: positionOf(e.id), frame: Buffer.from(`id: ${e.id}\nevent: ${e.type}\ndata: ${e.json}\n\n`), resync: e.type === 'resync' };
}

function positionOf(id: string): EventPosition {
  const dash = id.indexOf('-');
  return { ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)), text: id };
}

/** Log order; exact also for sequence numbers beyond 2^53 (a `since` marker's), which take the slow way. */
function comparePositions(a: EventPosition, b: EventPosition): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (Number.isSafeInteger(a.seq) && Number.isSafeInteger(b.seq)) return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
  return compareEventIds(a.text, b.text);
}
