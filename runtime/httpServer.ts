import type { Server } from 'node:http';
import type Koa from 'koa';

/**
 * Listens on host:port. A port still held by a process that is just exiting (a fast restart) is
 * retried for a few seconds before giving up.
 */
export async function listen(app: Koa, host: string, port: number, retryForMs = 5000): Promise<Server> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      return await new Promise<Server>((resolve, reject) => {
        const server = app.listen(port, host);
        server.once('listening', () => resolve(server));
        server.once('error', reject);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops the rest. */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export function boundPort(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
