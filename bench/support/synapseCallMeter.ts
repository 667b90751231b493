import { createServer, request as httpRequest, type Server } from 'node:http';

/** Synapse calls of one measured phase: how many, and how many were in flight at once. */
export interface CallConcurrency {
  calls: number;
  /** Most calls in flight at one moment. */
  peak: number;
  /** Calls in flight on average over the phase (time-weighted, from start() to stop()). */
  mean: number;
}

/**
 * A pass-through HTTP proxy in front of Synapse that measures how many of the calls it forwards
 * are in flight at once. Both sides of a comparison go through it (the same hop for both), and
 * only the calls that `counts(path, body)` picks are measured (e.g. those naming one network's
 * users), from the request's arrival until its answer has been sent back.
 */
export class SynapseCallMeter {
  private server: Server | null = null;
  private phase: Phase | null = null;
  url = '';

  constructor(
    private readonly synapseUrl: string,
    private readonly counts: (path: string, body: string) => boolean,
  ) {}

  async start(): Promise<void> {
    const target = new URL(this.synapseUrl);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? '/';
        const phase = this.phase !== null && this.counts(safeDecode(path), body.length < 65536 ? body.toString('utf8') : '') ? this.phase : null;
        if (phase) enter(phase);
        let left = false;
        const leave = () => {
          if (phase && !left) {
            left = true;
            exit(phase);
          }
        };
        res.on('finish', leave);
        res.on('close', leave);
        const upstream = httpRequest(
          { host: target.hostname, port: target.port, method: req.method, path, headers: { ...req.headers, host: target.host, 'content-length': String(body.length) } },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        upstream.end(body);
      });
    });
    // Keep-alive connections from both clients: no connection set-up in the measured time.
    this.server.keepAliveTimeout = 60000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** Starts measuring a phase (calls already in flight are not counted in it). */
  begin(): void {
    const now = performance.now();
    this.phase = { started: now, lastChange: now, area: 0, calls: 0, peak: 0, inFlight: 0, ended: false };
  }

  end(): CallConcurrency {
    const p = this.phase;
    if (!p) throw new Error('no phase was started');
    const now = performance.now();
    p.area += p.inFlight * (now - p.lastChange);
    p.ended = true;
    this.phase = null;
    const duration = now - p.started;
    return { calls: p.calls, peak: p.peak, mean: duration > 0 ? p.area / duration : 0 };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

}

interface Phase {
  started: number;
  lastChange: number;
  /** Integral of calls in flight over time (call·ms). */
  area: number;
  calls: number;
  peak: number;
  inFlight: number;
  ended: boolean;
}

function enter(p: Phase): void {
  const now = performance.now();
  p.area += p.inFlight * (now - p.lastChange);
  p.lastChange = now;
  p.inFlight++;
  p.calls++;
  p.peak = Math.max(p.peak, p.inFlight);
}

function exit(p: Phase): void {
  if (p.ended) return;
  const now = performance.now();
  p.area += p.inFlight * (now - p.lastChange);
  p.lastChange = now;
  p.inFlight--;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
