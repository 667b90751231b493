import { createServer, type Server } from 'node:http';
import type { Context, Next } from 'koa';
import { closeServer } from './httpServer';
import { renderMetrics } from './metrics';

/**
 * Liveness and readiness for load balancers and orchestrators, on every role (README "Deploying ›
 * Probes"). Unauthenticated and cheap: /livez answers from the event loop alone; /readyz reads the
 * state of the process's own connections (no round trip to MongoDB, Redis or Synapse), and names
 * only which dependency is not ready, never a URL or a secret.
 */
export type ReadinessChecks = () => Record<string, boolean>;

export interface ProbeAnswer {
  status: number;
  body: { status: 'ok' | 'ready' | 'not ready'; checks?: Record<string, boolean> };
}

export function probeAnswer(path: string, checks: ReadinessChecks): ProbeAnswer | null {
  if (path === '/livez') return { status: 200, body: { status: 'ok' } };
  if (path !== '/readyz') return null;
  const results = checks();
  const ready = Object.values(results).every(Boolean);
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', checks: results } };
}

/** Koa middleware answering GET /livez and /readyz ahead of authentication. */
export function probeRoutes(checks: ReadinessChecks) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const answer = ctx.method === 'GET' || ctx.method === 'HEAD' ? probeAnswer(ctx.path, checks) : null;
    if (!answer) return next();
    ctx.status = answer.status;
    ctx.set('cache-control', 'no-store');
    ctx.body = answer.body;
  };
}

/**
 * A small listener of its own: the provisioning worker's probes (WORKER_HTTP_PORT), and the
 * process's /metrics (METRICS_PORT). Plain node:http, nothing else is served.
 */
export async function startOpsListener(opts: { host: string; port: number; checks?: ReadinessChecks; metrics?: boolean }): Promise<{ server: Server; port: number; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'application/json', JSON.stringify({ error: { code: 'method_not_allowed', message: 'GET only' } }));
    if (opts.metrics && path === '/metrics') {
      renderMetrics().then(
        (text) => send(200, 'text/plain; version=0.0.4; charset=utf-8', text),
        () => send(500, 'text/plain; charset=utf-8', 'metrics unavailable\n'),
      );
      return;
    }
    const answer = opts.checks ? probeAnswer(path, opts.checks) : null;
    if (answer) return send(answer.status, 'application/json', JSON.stringify(answer.body));
    send(404, 'application/json', JSON.stringify({ error: { code: 'not_found', message: `no such path ${path}` } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, stop: () => closeServer(server, 1000) };
}

/** /livez and /readyz in the portal API's OpenAPI document (the other listeners answer them the same way). */
export function probesOpenApi(): Record<string, unknown> {
  const body = (example: Record<string, unknown>) => ({ 'application/json': { schema: { type: 'object' }, example } });
  return {
    '/livez': {
      get: {
        summary: 'Liveness probe (no login, no dependency checked): 200 while the process answers',
        security: [],
        responses: { 200: { description: 'alive', content: body({ status: 'ok' }) } },
      },
    },
    '/readyz': {
      get: {
        summary: "Readiness probe (no login): 200 when this process's MongoDB, Redis and live event connections are up, 503 naming which is not",
        security: [],
        responses: {
          200: { description: 'ready', content: body({ status: 'ready', checks: { mongodb: true, redis: true, liveEvents: true } }) },
          503: { description: 'not ready', content: body({ status: 'not ready', checks: { mongodb: false, redis: true, liveEvents: true } }) },
        },
      },
    },
  };
}
