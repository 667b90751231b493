import http from 'node:http';

/**
 * A lean server-sent-events client on raw node:http, as tests, benchmarks and the chaos suite use
 * the live stream (no EventSource polyfill, so a benchmark with thousands of streams measures the
 * server). It records every event with the time it arrived; `next` waits for one that matches.
 */
export interface ReceivedEvent {
  id: string;
  type: string;
  data: any;
  receivedAt: number;
}

export interface EventStreamConnection {
  status: number;
  /** The answer's body when it was not a stream (an error's JSON). */
  errorBody: any;
  events: ReceivedEvent[];
  comments: number;
  /** The last id received (what a reconnect sends as Last-Event-ID). */
  lastId(): string | undefined;
  ended: Promise<void>;
  isEnded(): boolean;
  next(predicate: (e: ReceivedEvent) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedEvent>;
  close(): void;
}

export function openEventStream(
  baseUrl: string,
  opts: { token?: string; ticket?: string; lastEventId?: string; lastEventIdQuery?: string; agent?: http.Agent; onEvent?: (e: ReceivedEvent) => void },
): Promise<EventStreamConnection> {
  const url = new URL('/v1/events', baseUrl);
  if (opts.ticket) url.searchParams.set('ticket', opts.ticket);
  if (opts.lastEventIdQuery) url.searchParams.set('lastEventId', opts.lastEventIdQuery);
  return new Promise((resolve, reject) => {
    const req = http.get(
      url,
      {
        agent: opts.agent ?? false,
        headers: {
          accept: 'text/event-stream',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}),
        },
      },
      (res) => {
        const events: ReceivedEvent[] = [];
        const waiters = new Set<() => void>();
        let ended = false;
        let endedResolve!: () => void;
        const endedPromise = new Promise<void>((r) => (endedResolve = r));
        const markEnded = () => {
          ended = true;
          endedResolve();
          for (const w of waiters) w();
        };
        res.on('end', markEnded);
        res.on('close', markEnded);
        res.on('error', markEnded);
        const connection: EventStreamConnection = {
          status: res.statusCode ?? 0,
          errorBody: undefined,
          events,
          comments: 0,
          lastId: () => events.at(-1)?.id,
          ended: endedPromise,
          isEnded: () => ended,
          close: () => {
            req.destroy();
            markEnded();
          },
          next: (predicate, timeoutMs = 15000, what = 'an event') =>
            new Promise((resolveNext, rejectNext) => {
              let seen = 0;
              const check = () => {
                for (; seen < events.length; seen++) {
                  if (predicate(events[seen]!)) {
                    cleanup();
                    return resolveNext(events[seen]!);
                  }
                }
                if (ended) {
                  cleanup();
                  rejectNext(new Error(`the stream ended before ${what} (got: ${events.map((e) => e.type).join(', ') || 'nothing'})`));
                }
              };
              const timer = setTimeout(() => {
                cleanup();
                rejectNext(new Error(`timed out waiting for ${what} (got: ${events.map((e) => e.type).join(', ') || 'nothing'})`));
              }, timeoutMs);
              const cleanup = () => {
                clearTimeout(timer);
                waiters.delete(check);
              };
              waiters.add(check);
              check();
            }),
        };
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            try {
              connection.errorBody = JSON.parse(text);
            } catch {
              connection.errorBody = text;
            }
            resolve(connection);
          });
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const fields: Record<string, string> = {};
            let comment = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comment = true;
              const colon = line.indexOf(':');
              if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
            }
            if (comment && !fields.event) connection.comments++;
            if (fields.event) {
              const event = { id: fields.id ?? '', type: fields.event, data: fields.data ? JSON.parse(fields.data) : null, receivedAt: performance.now() };
              events.push(event);
              opts.onEvent?.(event);
            }
          }
          for (const w of waiters) w();
        });
        resolve(connection);
      },
    );
    req.on('error', reject);
  });
}
