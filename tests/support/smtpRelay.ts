import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of a real SMTP server (the test stack's Mailpit). It passes every
 * byte both ways, except on a connection after `loseNextFinalDot()`: from the client's DATA
 * command on it forwards nothing more to the server (the server has answered 354 and waits for
 * the message), and once the client has written the message's final "." it cuts both sides, as
 * a dead worker's connection ends. The server never got that ".", so it delivered nothing
 * (RFC 5321 §3.8), while the client passed its commit point.
 */
export interface SmtpRelay {
  url: string;
  /** The next connection that reaches DATA loses its message and final "." and is cut. */
  loseNextFinalDot(): void;
  /** Connections cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startSmtpRelay(upstreamUrl: string): Promise<SmtpRelay> {
  const upstream = new URL(upstreamUrl);
  let loseNext = false;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const toServer = connect(Number(upstream.port), upstream.hostname);
    for (const s of [client, toServer]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => toServer.destroy());
    toServer.on('close', () => client.destroy());
    toServer.on('data', (chunk) => client.write(chunk));
    let commands = '';
    let withholding = false;
    let withheld = '';
    client.on('data', (chunk: Buffer) => {
      if (withholding) {
        withheld += chunk.toString('latin1');
        if (withheld.endsWith('\r\n.\r\n')) {
          cuts++;
          client.destroy();
          toServer.destroy();
        }
        return;
      }
      if (!loseNext) {
        toServer.write(chunk);
        return;
      }
      commands += chunk.toString('latin1');
      const at = commands.search(/(^|\r\n)DATA\r\n/i);
      if (at < 0) {
        toServer.write(chunk);
        return;
      }
      // This connection is the one: forward up to and including DATA, keep the rest.
      loseNext = false;
      withholding = true;
      const end = commands.indexOf('DATA\r\n', at) + 'DATA\r\n'.length;
      const sentBefore = commands.length - chunk.length;
      toServer.write(Buffer.from(commands.slice(sentBefore, end), 'latin1'));
      withheld = commands.slice(end);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    loseNextFinalDot: () => {
      loseNext = true;
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A loopback HTTP front of Mailpit's API that can be switched to answer 503 (the provider down)
 * and back to passing each request through to the real Mailpit.
 */
export interface ApiFront {
  url: string;
  down: boolean;
  /** Requests answered so far (passed through or refused). */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startApiFront(upstreamUrl: string): Promise<ApiFront> {
  let requests = 0;
  const front = { down: false };
  const server: HttpServer = createHttpServer((req, res) => {
    requests++;
    if (front.down) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down for the test');
      return;
    }
    fetch(`${upstreamUrl}${req.url ?? '/'}`, { method: req.method, headers: req.headers.authorization ? { authorization: req.headers.authorization } : {} })
      .then(async (up) => {
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream' }).end(Buffer.from(await up.arrayBuffer()));
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get down() {
      return front.down;
    },
    set down(value: boolean) {
      front.down = value;
    },
    get requests() {
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
