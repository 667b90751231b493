import { unwrap, isMissingRoute, OfflineError, type Api } from './api/client';
import { LIVE_EVENT_TYPES as SERVER_EVENT_TYPES, type LiveEventType as ServerEventType } from '../../live/liveEvents';

/**
 * The event types this client acts on: the server's vocabulary (live/liveEvents.ts, the one
 * source), all but `resync`, which is handled on its own.
 */
export const LIVE_EVENT_TYPES = SERVER_EVENT_TYPES.filter((t): t is Exclude<ServerEventType, 'resync' | 'stream.opened'> => t !== 'resync' && t !== 'stream.opened');
export type LiveEventType = Exclude<ServerEventType, 'resync'>;

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'unavailable';

export interface LiveHandlers {
  onEvent(type: LiveEventType, data: Record<string, unknown> & { chatId?: string }): void;
  /** Events were missed beyond what the server keeps: reload every list. */
  onResync(): void;
  onState(state: StreamState): void;
}

const MAX_BACKOFF_MS = 30000;

/**
 * The one live stream of a signed-in person: an EventSource on GET /v1/events with a single-use
 * ticket (POST /v1/me/event-ticket, since EventSource sends no Authorization header). Reconnects
 * itself with a new ticket and the last event id (`lastEventId`), so the server replays what was
 * missed; a `resync` event means too much was missed and the lists are reloaded. A server without
 * the stream (404) leaves the client without live updates and without any polling.
 */
export class LiveEvents {
  private source: EventSource | null = null;
  private lastEventId: string | null = null;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly onOnline = () => this.reconnectSoon(0);
  private readonly onOffline = () => {
    this.close();
    this.handlers.onState('offline');
  };

  constructor(
    private readonly api: Api,
    private readonly apiBase: string,
    private readonly handlers: LiveHandlers,
  ) {}

  start(): void {
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    if (!navigator.onLine) return this.onOffline();
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    if (this.timer) clearTimeout(this.timer);
    this.close();
  }

  private close(): void {
    this.source?.close();
    this.source = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.handlers.onState(this.attempts === 0 ? 'connecting' : 'reconnecting');
    let ticket: string;
    try {
      ticket = (await unwrap(this.api.POST('/v1/me/event-ticket', {}))).ticket;
    } catch (err) {
      if (isMissingRoute(err)) return this.handlers.onState('unavailable');
      this.handlers.onState(err instanceof OfflineError ? 'offline' : 'reconnecting');
      return this.reconnectSoon();
    }
    const url = new URL(`${this.apiBase.replace(/\/+$/, '')}/v1/events`, location.href);
    url.searchParams.set('ticket', ticket);
    if (this.lastEventId) url.searchParams.set('lastEventId', this.lastEventId);
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => {
      this.attempts = 0;
      this.handlers.onState('live');
    };
    // The browser's own retry would reuse the spent ticket: reconnect ourselves instead.
    source.onerror = () => {
      if (this.source !== source) return;
      this.close();
      this.handlers.onState(navigator.onLine ? 'reconnecting' : 'offline');
      this.reconnectSoon();
    };
    for (const type of LIVE_EVENT_TYPES) {
      source.addEventListener(type, (e) => this.deliver(type, e as MessageEvent<string>));
    }
    // Where a new stream begins: reconnecting from there misses nothing, even before a first event.
    source.addEventListener('stream.opened', (e) => {
      this.lastEventId = (e as MessageEvent).lastEventId || this.lastEventId;
    });
    source.addEventListener('resync', (e) => {
      this.lastEventId = (e as MessageEvent).lastEventId || this.lastEventId;
      this.handlers.onResync();
    });
  }

  private deliver(type: LiveEventType, e: MessageEvent<string>): void {
    if (e.lastEventId) this.lastEventId = e.lastEventId;
    try {
      this.handlers.onEvent(type, JSON.parse(e.data) as Record<string, unknown>);
    } catch {
      // An event this client cannot read is skipped; the next resync or reload covers it.
    }
  }

  private reconnectSoon(delayMs?: number): void {
    if (this.stopped || this.timer) return;
    const backoff = delayMs ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
    this.attempts += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, backoff);
  }
}
