import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { TooManyStreamsError } from '../runtime';
import type { LiveEventHub, LiveRecipient, LiveSink, LiveStream } from '../live';

/** How long an EventSource waits before reconnecting (the `retry:` field). */
const RECONNECT_MS = 2000;
/** setTimeout's ceiling; a token valid for longer is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Answers a request with the caller's live events as server-sent events: `id:` (the recipient's
 * log position, what Last-Event-ID resumes from), `event:` (the type) and `data:` (JSON, one line).
 * The answer's headers leave only once the hub has the caller subscribed and the missed events
 * replayed, so a client that has the headers misses nothing from then on. The stream ends when the
 * token expires, when the caller is deactivated (the hub's `end`), or when the process stops.
 */
export async function answerWithEventStream(
  ctx: Context,
  hub: LiveEventHub,
  recipient: LiveRecipient,
  opts: { lastEventId?: string; expiresAt?: number; maxStreams: number; heartbeatMs: number },
): Promise<void> {
  const out = new PassThrough();
  let stream: LiveStream | null = null;
  let ended = false;
  let expiry: NodeJS.Timeout | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(expiry);
    out.end();
    void stream?.close();
  };
  const sink: LiveSink = {
    event: (e) => void out.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`),
    comment: (text) => void out.write(`: ${text}\n\n`),
    end,
  };
  out.write(`retry: ${RECONNECT_MS}\n\n`);
  stream = await hub.open(recipient, { lastEventId: opts.lastEventId }, sink);
  if (!stream) throw new TooManyStreamsError(opts.maxStreams, Math.ceil((opts.heartbeatMs * 3) / 1000));
  if (ended) {
    void stream.close();
  }
  ctx.req.on('close', end);
  const watchExpiry = () => {
    if (opts.expiresAt === undefined) return;
    const left = opts.expiresAt - Date.now();
    if (left <= 0) return end();
    expiry = setTimeout(watchExpiry, Math.min(left, MAX_TIMER_MS));
  };
  watchExpiry();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.req.socket.setKeepAlive(true);
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-cache, no-transform');
  // nginx and friends would otherwise buffer the stream.
  ctx.set('X-Accel-Buffering', 'no');
  ctx.type = 'text/event-stream';
  ctx.body = out;
}
