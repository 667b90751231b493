import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

export interface ProxiedRequest {
  method: string;
  path: string;
  at: number;
  /** The status the proxy answered itself, when it did not forward. */
  injected?: number;
}

export type FaultRule = (req: { method: string; path: string }) => { status: number; body: Record<string, unknown> } | null;

export interface SynapseFaultProxy {
  url: string;
  requests: ProxiedRequest[];
  /** Decides, per request, whether to answer with a fault instead of forwarding; null forwards. */
  setRule(rule: FaultRule | null): void;
  stop(): Promise<void>;
}

/**
 * A real HTTP server in front of Synapse on 127.0.0.1 that forwards everything, except what the
 * current rule answers itself (a 429 with retry_after_ms, a 403...). Every request is logged.
 */
export async function startSynapseFaultProxy(synapseUrl: string): Promise<SynapseFaultProxy> {
  const target = new URL(synapseUrl);
  const requests: ProxiedRequest[] = [];
  let rule: FaultRule | null = null;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', at: Date.now() };
    requests.push(entry);
    const fault = rule?.({ method: entry.method, path: entry.path.split('?')[0]! });
    if (fault) {
      entry.injected = fault.status;
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify(fault.body));
      return;
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setRule: (r) => {
      rule = r;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
