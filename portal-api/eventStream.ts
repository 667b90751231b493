import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import { TooManyStreamsError } from '../runtime';
import type { LiveEventHub, LiveRecipient, LiveSink } from '../live';

/** How long an EventSource waits before reconnecting (the `retry:` field). */
const RETRY_FRAME = Buffer.from('retry: 2000\n\n');
/**
 * A listener that stops reading while this much waits for its socket is dropped: it reconnects
 * with Last-Event-ID and replays from the log, instead of the process holding its backlog.
 */
const MAX_UNSENT_BYTES = 1024 * 1024;

/**
 * Answers a request with the caller's live events as server-sent events, written by the hub
 * straight to the response (no stream in between; Koa steps aside once the headers are out). The
 * headers leave only once the hub has the caller subscribed and the missed events replayed, so a
 * client that has the headers misses nothing from then on; what the replay produced until then
 * waits in a short list. The stream ends when the token expires (the hub's one expiry timer),
 * when the caller is deactivated (the hub's `end`), or when the process stops.
 *
 * What a stream keeps is the socket, this function's small sink and the hub's record; the Koa
 * context is let go of when the handler returns.
 */
export async function answerWithEventStream(
  ctx: Context,
  hub: LiveEventHub,
  recipient: LiveRecipient,
  opts: { lastEventId?: string; expiresAt?: number; maxStreams: number; heartbeatMs: number },
): Promise<void> {
  const sink = new ResponseSink(ctx.res);
  const stream = await hub.open(recipient, { lastEventId: opts.lastEventId, expiresAt: opts.expiresAt }, sink);
  if (!stream) throw new TooManyStreamsError(opts.maxStreams, Math.ceil((opts.heartbeatMs * 3) / 1000));
  const socket = ctx.req.socket;
  ctx.respond = false;
  if (socket.destroyed) {
    // Gone while the hub opened the stream.
    void stream.close();
    return;
  }
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  ctx.status = 200;
  ctx.res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    // nginx and friends would otherwise buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  sink.begin(() => void stream.close());
  ctx.res.once('close', () => sink.end());
}

/** The hub's sink for one response: frames are queued until the headers are out, then written. */
class ResponseSink implements LiveSink {
  private queued: Buffer[] | null = [RETRY_FRAME];
  private ended = false;
  private onEnd: (() => void) | null = null;

  constructor(private readonly res: ServerResponse) {}

  write(frame: Buffer): void {
    if (this.ended) return;
    if (this.queued) {
      this.queued.push(frame);
      return;
    }
    if (this.res.writableLength > MAX_UNSENT_BYTES) return this.end();
    this.res.write(frame);
  }

  /** The headers are out: what waited is written, and `onEnd` runs when the stream ends. */
  begin(onEnd: () => void): void {
    const queued = this.queued ?? [];
    this.queued = null;
    this.onEnd = onEnd;
    if (this.ended) {
      this.res.end();
      return onEnd();
    }
    this.res.write(queued.length === 1 ? queued[0]! : Buffer.concat(queued));
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.queued) return; // not begun: begin() ends it
    this.res.end();
    this.onEnd?.();
    this.onEnd = null;
  }
}
