import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../runtime';
import {
  acquireSlot,
  channelMessageToEvent,
  channelOf,
  END_STREAMS,
  eventsAfter,
  refreshListeners,
  registerListener,
  releaseSlot,
} from './liveEventLog';
import { compareEventIds, recipientKey, type LiveEvent, type LiveRecipient } from './liveEvents';

/** Where a stream's events go (the portal API writes them as server-sent events). */
export interface LiveSink {
  event(event: LiveEvent): void;
  /** A comment line: keeps proxies from closing an idle stream. */
  comment(text: string): void;
  /** The stream ends (deactivated, or the process stops). */
  end(reason: string): void;
}

export interface LiveStream {
  readonly recipient: LiveRecipient;
  close(): Promise<void>;
}

interface Attached {
  recipient: LiveRecipient;
  key: string;
  slotId: string;
  sink: LiveSink;
  /** The last event delivered; a later copy of it (or of anything before it) is never delivered. */
  lastId: string | null;
  /** While the log is being replayed, live events wait here, so nothing is delivered out of order. */
  buffer: LiveEvent[] | null;
  closed: boolean;
}

export interface LiveHubOptions {
  /** Comment lines every so often (≤ 25 s) and the registrations' refresh. */
  heartbeatMs: number;
  /** Open streams one recipient may hold at once, across every process. */
  maxStreamsPerRecipient: number;
}

/**
 * One API process's listeners. It subscribes to the fan-out channel of each recipient it has a
 * listener of (one Redis subscriber connection for all), replays a reconnecting listener's log
 * from its Last-Event-ID before handing it live events, and drops any event a listener already
 * has, so every event reaches each listener once and in the log's order. Nothing polls: an idle
 * listener costs a subscription and a comment line per heartbeat.
 */
export class LiveEventHub {
  private readonly subscriber: Redis;
  private readonly reader: Redis;
  private readonly byRecipient = new Map<string, Set<Attached>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private heartbeat: NodeJS.Timeout | null = null;
  private readyOnce = false;

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
  }

  /** Streams open in this process. */
  get size(): number {
    let n = 0;
    for (const set of this.byRecipient.values()) n += set.size;
    return n;
  }

  /**
   * Opens a stream: the recipient's slot (false when they already hold the maximum), their log,
   * the channel, then the replay of what they missed after `lastEventId`.
   */
  async open(recipient: LiveRecipient, opts: { lastEventId?: string }, sink: LiveSink): Promise<LiveStream | null> {
    const slotId = randomUUID();
    if (!(await acquireSlot(this.reader, recipient, slotId, this.opts.maxStreamsPerRecipient, this.opts.heartbeatMs * 3))) return null;
    const key = recipientKey(recipient);
    const attached: Attached = { recipient, key, slotId, sink, lastId: null, buffer: [], closed: false };
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
    return { recipient, close: () => this.detach(attached) };
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
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
      const missed = await eventsAfter(this.reader, a.recipient, lastEventId);
      if (missed.resync) {
        this.deliver(a, { id: missed.resumeId, type: 'resync', data: {} });
      } else {
        a.lastId = lastEventId;
        for (const e of missed.events) this.deliver(a, e);
      }
    }
    const waiting = a.buffer ?? [];
    a.buffer = null;
    for (const e of waiting) this.deliver(a, e);
  }

  private deliver(a: Attached, event: LiveEvent): void {
    if (a.closed) return;
    if (a.buffer) {
      a.buffer.push(event);
      return;
    }
    if (a.lastId !== null && event.type !== 'resync' && compareEventIds(event.id, a.lastId) <= 0) return;
    a.lastId = event.id;
    a.sink.event(event);
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
    let event: LiveEvent | null;
    try {
      event = channelMessageToEvent(message);
    } catch {
      event = null;
    }
    if (!event) return;
    for (const a of set) this.deliver(a, event);
  }

  private async catchUpAll(): Promise<void> {
    for (const set of this.byRecipient.values()) {
      for (const a of set) {
        if (a.lastId === null || a.buffer) continue;
        a.buffer = [];
        await this.replay(a, a.lastId).catch((err) => {
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
        a.sink.comment('keep-alive');
        slotIds.push(a.slotId);
      }
      const first = set.values().next().value;
      if (first) connected.push({ recipient: first.recipient, slotIds });
    }
    await refreshListeners(this.reader, connected).catch((err) => this.log.warn({ err: (err as Error).message }, 'live events: heartbeat refresh failed'));
  }

  private async detach(a: Attached): Promise<void> {
    if (a.closed) return;
    a.closed = true;
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
