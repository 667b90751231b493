import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of a real SMTP server (the test stack's Mailpit). It passes every
 * byte both ways, with two faults a dead worker's connection can show:
 * - `loseNextFinalDot()`: on the next connection that reaches DATA, nothing after the DATA command
 *   is forwarded (the server has answered 354 and waits for the message), and once the client has
 *   written the message's final "." both sides are cut. The server never got that ".", so it
 *   delivered nothing (RFC 5321 §3.8), while the client passed its commit point.
 * - `holdFinalDotMs`, `holdAnswerMs`: every message's final "." reaches the server that much later,
 *   and the server's answer to it reaches the client that much later: the moment in which the
 *   outcome is unknown lasts that long, so a kill (chaos R9) lands in it. A client that goes away
 *   while its "." is held loses the "." (the server is cut without it), as the bytes of a killed
 *   process that never left it.
 */
export interface SmtpRelay {
  url: string;
  /** The next connection that reaches DATA loses its message and final "." and is cut. */
  loseNextFinalDot(): void;
  /** Connections cut so far by `loseNextFinalDot`. */
  readonly cuts: number;
  /** Final dots held back and then dropped because the client had gone. */
  readonly dotsLost: number;
  close(): Promise<void>;
}

const FINAL_DOT = '\r\n.\r\n';

export async function startSmtpRelay(upstreamUrl: string, opts: { holdFinalDotMs?: number; holdAnswerMs?: number } = {}): Promise<SmtpRelay> {
  const upstream = new URL(upstreamUrl);
  let loseNext = false;
  let cuts = 0;
  let dotsLost = 0;
  const sockets = new Set<Socket>();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const server: Server = createServer((client) => {
    const toServer = connect(Number(upstream.port), upstream.hostname);
    let clientGone = false;
    for (const s of [client, toServer]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => {
      clientGone = true;
      toServer.destroy();
    });
    toServer.on('close', () => client.destroy());
    // Writes in order, each direction, with the holds in between.
    let upChain: Promise<unknown> = Promise.resolve();
    let downChain: Promise<unknown> = Promise.resolve();
    let answerHeld = false;
    toServer.on('data', (chunk: Buffer) => {
      const hold = answerHeld ? (opts.holdAnswerMs ?? 0) : 0;
      answerHeld = false;
      downChain = downChain.then(async () => {
        if (hold) await sleep(hold);
        if (!client.destroyed) client.write(chunk);
      });
    });
    const up = (chunk: Buffer, holdMs = 0) => {
      upChain = upChain.then(async () => {
        if (holdMs) {
          await sleep(holdMs);
          if (clientGone) {
            dotsLost++;
            return;
          }
        }
        if (!toServer.destroyed) toServer.write(chunk);
      });
    };
    let state: 'commands' | 'data' | 'lose' = 'commands';
    let commands = '';
    let tail = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('latin1');
      if (state === 'lose') {
        tail = (tail + text).slice(-FINAL_DOT.length);
        if (tail === FINAL_DOT) {
          cuts++;
          client.destroy();
          toServer.destroy();
        }
        return;
      }
      if (state === 'data') {
        tail = (tail + text).slice(-FINAL_DOT.length);
        if (tail !== FINAL_DOT) return up(chunk);
        // The message's final ".": held, then the server's answer to it.
        state = 'commands';
        commands = '';
        tail = '';
        up(chunk, opts.holdFinalDotMs ?? 0);
        upChain = upChain.then(() => {
          answerHeld = true;
        });
        return;
      }
      commands += text;
      const at = commands.search(/(^|\r\n)DATA\r\n/i);
      if (at < 0) {
        commands = commands.slice(-16);
        return up(chunk);
      }
      // Up to and including DATA as it came; what follows is the message.
      const dataEnd = commands.indexOf('DATA\r\n', at) + 'DATA\r\n'.length;
      const inChunk = text.length - (commands.length - dataEnd);
      up(Buffer.from(text.slice(0, inChunk), 'latin1'));
      state = loseNext ? 'lose' : 'data';
      loseNext = false;
      tail = '';
      const rest = text.slice(inChunk);
      if (rest) onData(Buffer.from(rest, 'latin1'));
    };
    client.on('data', onData);
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
    get dotsLost() {
      return dotsLost;
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
