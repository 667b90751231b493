import { freePort } from '../scripts/stack/freePort';
import { inLanes, type BenchStack } from '../bench/support/benchStack';
import { createNetwork } from '../bench/support/networkFixture';
import type { ServiceProcess } from '../bench/support/serviceProcess';
import { openEventStream, type EventStreamConnection, type ReceivedEvent } from '../tests/support/eventStreamClient';
import type { ScenarioResult } from './scenarioResult';

const CUSTOMERS = 50;
const MESSAGES = 300;
const MESSAGES_PER_SECOND = 40;
const RECONNECT_DEADLINE_MS = 30000;

interface Listener {
  who: string;
  chat: number;
  url: string;
  conn: EventStreamConnection | null;
  events: ReceivedEvent[];
  reconnects: number;
  /** The Last-Event-ID of each connection (none on the first), and how many events it held then. */
  resumes: Array<{ from: string | undefined; held: number }>;
  failure?: string;
}

/**
 * R8: 100 listeners (50 customers in 25 direct conversations, each with one stream on each of two
 * API processes) while messages are sent through the second process; the first is SIGKILLed a
 * third of the way in. Its listeners reconnect to the second with Last-Event-ID, as an EventSource
 * does; in the end every listener must hold every message of its conversation exactly once, with
 * ids increasing across the reconnect.
 *
 * On the scale profile (STACK_PROFILE=scale) the two processes are the two behind the stack's
 * nginx, and clients go through nginx as in production: messages are sent to the load balancer
 * (a send caught in flight by the kill is answered 502 and sent again with the same txnId, as a
 * client does; the txnId makes that safe), and listeners of the killed process reconnect to the
 * load balancer, which passes them to the survivor.
 */
export async function liveFailover(b: BenchStack, portal: ServiceProcess): Promise<ScenarioResult> {
  const problems: string[] = [];
  const customers = Object.fromEntries(Array.from({ length: CUSTOMERS }, (_, i) => [`r8-${i}`, `Listener ${i}`]));
  const net = await createNetwork(b, { customers, provisionTimeoutMs: 300000 });
  const chats: string[] = Array.from({ length: CUSTOMERS / 2 }, () => '');
  await inLanes(chats.map((_, k) => k), 8, async (k) => {
    chats[k] = (await b.ok('POST', '/v1/chats', net.customer(`r8-${2 * k}`), { userId: `r8-${2 * k + 1}`, via: { type: 'community' } })).id;
  });
  const front = b.stack.portalApi;
  const port = front ? front.backendPorts[1]! : await freePort();
  const survivor = b.child('portal-api', { PORTAL_API_PORT: String(port) });
  await survivor.start();
  const survivorUrl = `http://127.0.0.1:${port}`;
  // Where clients send and reconnect: the load balancer on the scale profile, else the survivor.
  const clientUrl = front ? front.url : survivorUrl;
  let resent = 0;
  let stopping = false;

  const connect = async (l: Listener): Promise<void> => {
    const deadline = Date.now() + RECONNECT_DEADLINE_MS;
    for (;;) {
      l.resumes.push({ from: l.events.at(-1)?.id, held: l.events.length });
      const conn = await openEventStream(l.url, { token: net.customer(l.who), lastEventId: l.events.at(-1)?.id, onEvent: (e) => l.events.push(e) }).catch(() => null);
      if (conn?.status === 200) {
        l.conn = conn;
        void conn.ended.then(() => {
          if (stopping) return;
          // The process died under the stream: reconnect where the other process serves.
          l.url = clientUrl;
          l.reconnects++;
          void connect(l);
        });
        return;
      }
      if (Date.now() > deadline) {
        l.failure = `${l.who} could not reconnect: ${conn ? `${conn.status} ${JSON.stringify(conn.errorBody)}` : 'connection refused'}`;
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const listeners: Listener[] = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    for (const url of [b.baseUrl, survivorUrl]) listeners.push({ who: `r8-${i}`, chat: Math.floor(i / 2), url, conn: null, events: [], reconnects: 0, resumes: [] });
  }
  const sentBodies: string[][] = chats.map(() => []);
  let killedAt = -1;
  try {
    await inLanes(listeners, 16, (l) => connect(l));
    const began = Date.now();
    const sends: Promise<unknown>[] = [];
    for (let k = 0; k < MESSAGES; k++) {
      const wait = began + (k * 1000) / MESSAGES_PER_SECOND - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (k === Math.floor(MESSAGES / 3)) {
        killedAt = k;
        await portal.kill();
      }
      const chat = k % chats.length;
      const sender = `r8-${2 * chat + (k % 2)}`;
      const body = `r8 ${k}`;
      sentBodies[chat]!.push(body);
      const send = () =>
        fetch(`${clientUrl}/v1/chats/${chats[chat]}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${net.customer(sender)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ txnId: `r8-${k}`, body }),
        });
      sends.push(
        send()
          .then(async (r) => {
            // Only through the load balancer: the process it had passed the send to was killed.
            if (r.status === 502 && front) {
              resent++;
              return send();
            }
            return r;
          })
          .then((r) => {
            if (r.status !== 201) problems.push(`send ${k} answered ${r.status}`);
          }),
      );
    }
    await Promise.all(sends);
    const complete = (l: Listener) => new Set(messagesOf(l)).size >= sentBodies[l.chat]!.length;
    const deadline = Date.now() + 60000;
    while (!listeners.every(complete) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    // A little longer, so a late duplicate would be seen.
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    stopping = true;
    for (const l of listeners) l.conn?.close();
    await survivor.stop();
  }

  let lost = 0;
  let lostAfterReconnect = 0;
  const lostExamples: string[] = [];
  let duplicated = 0;
  let outOfOrder = 0;
  for (const l of listeners) {
    if (l.failure) problems.push(l.failure);
    const got = messagesOf(l);
    const unique = new Set(got);
    duplicated += got.length - unique.size;
    const missing = sentBodies[l.chat]!.filter((body) => !unique.has(body));
    lost += missing.length;
    if (l.reconnects > 0) lostAfterReconnect += missing.length;
    if (missing.length && lostExamples.length < 5) {
      // Where the loss happened: the message's id in this person's log (their other listener got
      // it), and where this listener's connections resumed from.
      const twin = listeners.find((o) => o !== l && o.who === l.who);
      const ids = missing.map((body) => `${body} (${twin?.events.find((e) => e.type === 'message.created' && e.data?.body === body)?.id ?? '?'})`);
      const resumes = l.resumes.map((r) => `${r.from ?? 'start'}@${r.held}`).join(' ');
      lostExamples.push(`${l.who}${l.reconnects ? ' (reconnected)' : ''}: ${ids.join(', ')}; resumed from ${resumes}; first event ${l.events[0]?.id ?? 'none'}`);
    }
    for (let i = 1; i < l.events.length; i++) if (compareIds(l.events[i - 1]!.id, l.events[i]!.id) >= 0) outOfOrder++;
  }
  const reconnected = listeners.filter((l) => l.reconnects > 0).length;
  // A resync tells a client to reload: what it skipped is not on the stream (and counts as lost here).
  const resyncs = listeners.reduce((n, l) => n + l.events.filter((e) => e.type === 'resync').length, 0);
  if (lost) problems.push(`${lost} messages missing from listeners (${lostAfterReconnect} of them from reconnected ones; e.g. ${lostExamples.join('; ')})`);
  if (duplicated) problems.push(`${duplicated} messages delivered twice`);
  if (outOfOrder) problems.push(`${outOfOrder} events out of order`);
  if (reconnected !== CUSTOMERS) problems.push(`${reconnected} listeners reconnected, expected the ${CUSTOMERS} of the killed process`);
  if (killedAt < 0) problems.push('the API process was never killed');
  return {
    id: 'R8',
    title: `API process SIGKILLed with ${listeners.length} listeners on two processes`,
    counts: { ...(front ? { via: 'nginx', resent } : {}), listeners: listeners.length, killedAtMessage: killedAt, reconnected, resyncs, messages: MESSAGES, deliveries: listeners.reduce((n, l) => n + messagesOf(l).length, 0), lost, duplicated, outOfOrder },
    problems,
  };
}

function messagesOf(l: Listener): string[] {
  return l.events.filter((e) => e.type === 'message.created' && typeof e.data?.body === 'string' && e.data.body.startsWith('r8 ')).map((e) => e.data.body as string);
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
}
