import { randomUUID } from 'node:crypto';
import { freePort } from '../scripts/stack/freePort';
import { inLanes, type BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork } from './support/networkFixture';
import { percentile } from './support/percentiles';
import type { BenchScale } from './support/scale';
import { openEventStream, type EventStreamConnection } from '../tests/support/eventStreamClient';

const STREAMS_PER_PERSON = 5;

/**
 * B7 fan-out: many concurrent streams on one API process (its own OS process, so its memory is
 * its own) — support conversations whose customer holds 5 streams (devices), and administrators
 * with 5 streams each (every administrator takes part in every support conversation) — while
 * customers send at a steady rate through the in-process API. Delivery latency is send start →
 * arrival on each listener that should get the message; every listener's events are checked for
 * loss and duplicates. The client is the lean raw-HTTP SSE client.
 */
export async function liveFanout(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const conversations = scale.b7Conversations;
  const customers = Object.fromEntries(Array.from({ length: conversations }, (_, i) => [`c${i}`, `Customer ${i}`]));
  const admins = Object.fromEntries(Array.from({ length: scale.b7Admins }, (_, i) => [`a${i}`, `Admin ${i}`]));
  const net = await createNetwork(b, { customers, admins, provisionTimeoutMs: 300000 });
  const chats: string[] = new Array(conversations);
  await inLanes(Object.keys(customers), 8, async (cid, i) => {
    chats[i] = (await b.ok('POST', '/v1/chats/support', net.customer(cid))).id;
  });

  const port = await freePort();
  const api = b.child('portal-api', { PORTAL_API_PORT: String(port) });
  await api.start();
  const listenerUrl = `http://127.0.0.1:${port}`;
  const streams: Array<{ who: string; conn: EventStreamConnection }> = [];
  try {
    const rssBefore = api.rssMiB();
    const people = [...Object.keys(customers).map((c) => ({ who: `c:${c}`, token: net.customer(c) })), ...Object.keys(admins).map((a) => ({ who: `a:${a}`, token: net.admin(a) }))];
    const sent = new Map<string, { start: number; chat: number; first: number; last: number }>();
    const latencies: number[] = [];
    const slots = people.flatMap((p) => Array.from({ length: STREAMS_PER_PERSON }, () => p));
    await inLanes(slots, 64, async (p) => {
      const conn = await openEventStream(listenerUrl, {
        token: p.token,
        onEvent: (e) => {
          if (e.type !== 'message.created') return;
          const s = sent.get(e.data.body);
          if (!s) return;
          latencies.push(e.receivedAt - s.start);
          s.first = Math.min(s.first, e.receivedAt);
          s.last = Math.max(s.last, e.receivedAt);
        },
      });
      if (conn.status !== 200) throw new Error(`stream for ${p.who} answered ${conn.status}`);
      streams.push({ who: p.who, conn });
    });
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfter = api.rssMiB();

    // Warm-up: one message per conversation, so the measured phase sees the steady state (rooms
    // known to every process, unread counts cached) rather than each conversation's first message.
    await inLanes(chats, 8, async (chatId, i) => {
      await b.ok('POST', `/v1/chats/${chatId}/messages`, net.customer(`c${i}`), { txnId: `b7-warm-${i}`, body: `b7 warm-up ${i}` });
    });
    const adminStream = streams.find((x) => x.who.startsWith('a:'))!.conn;
    const warmDeadline = Date.now() + 120000;
    while (adminStream.events.filter((e) => e.type === 'chat.updated').length < conversations && Date.now() < warmDeadline) await new Promise((r) => setTimeout(r, 250));

    const total = scale.b7MessagesPerSecond * scale.b7Seconds;
    const interval = 1000 / scale.b7MessagesPerSecond;
    const began = performance.now();
    const sends: Promise<void>[] = [];
    for (let k = 0; k < total; k++) {
      const due = began + k * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const chat = k % conversations;
      const body = `b7 ${k} ${randomUUID()}`;
      sent.set(body, { start: performance.now(), chat, first: Infinity, last: -Infinity });
      sends.push(b.ok('POST', `/v1/chats/${chats[chat]}/messages`, net.customer(`c${chat}`), { txnId: `b7-${k}`, body }).then(() => undefined));
    }
    await Promise.all(sends);
    const sendSeconds = (performance.now() - began) / 1000;
    const expectedPerMessage = STREAMS_PER_PERSON * (1 + scale.b7Admins);
    const expected = total * expectedPerMessage;
    const deadline = Date.now() + 30000;
    while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));

    let lost = 0;
    let duplicated = 0;
    for (const { who, conn } of streams) {
      const bodies = conn.events.filter((e) => e.type === 'message.created' && sent.has(e.data.body)).map((e) => e.data.body as string);
      const unique = new Set(bodies);
      duplicated += bodies.length - unique.size;
      const shouldGet = who.startsWith('a:') ? total : [...sent.values()].filter((s) => `c:c${s.chat}` === who).length;
      lost += shouldGet - unique.size;
    }
    // The fan-out alone: from the first listener holding a message to the last one (the send path
    // before the publish — MongoDB, Synapse — is in the figure above, not in this one).
    const spreads = [...sent.values()].filter((v) => v.last >= v.first).map((v) => v.last - v.first);
    const firstArrivals = [...sent.values()].filter((v) => v.first < Infinity).map((v) => v.first - v.start);
    const perStreamKiB = ((rssAfter - rssBefore) * 1024) / streams.length;
    const note =
      `${streams.length} streams on one API process (${conversations} support conversations × ${STREAMS_PER_PERSON} customer streams + ${scale.b7Admins} administrators × ${STREAMS_PER_PERSON}); ` +
      `${total} messages at ${scale.b7MessagesPerSecond}/s (sent in ${sendSeconds.toFixed(1)} s), ${expectedPerMessage} deliveries each, ${latencies.length} of ${expected} delivered; ${lost} lost, ${duplicated} duplicated; ` +
      `API RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`;
    return [
      result({ id: 'B7', metric: `fan-out delivery p99 (${streams.length} streams, ${scale.b7MessagesPerSecond} msg/s)`, unit: 'ms', value: percentile(latencies, 99), baseline: null, target: 250, targetOn: 'value', better: 'lower', note }),
      result({ id: 'B7', metric: 'fan-out delivery p50', unit: 'ms', value: percentile(latencies, 50), baseline: null, target: null, targetOn: 'value', better: 'lower' }),
      result({ id: 'B7', metric: 'send start → first listener, p50', unit: 'ms', value: percentile(firstArrivals, 50), baseline: null, target: null, targetOn: 'value', better: 'lower' }),
      result({ id: 'B7', metric: 'first → last listener of a message (fan-out spread), p99', unit: 'ms', value: percentile(spreads, 99), baseline: null, target: null, targetOn: 'value', better: 'lower' }),
      result({ id: 'B7', metric: 'extra API RSS per stream', unit: 'KiB', value: perStreamKiB, baseline: null, target: 40, targetOn: 'value', better: 'lower' }),
      result({ id: 'B7', metric: 'events lost or duplicated', unit: 'events', value: lost + duplicated, baseline: null, target: 0, targetOn: 'value', better: 'lower' }),
    ];
  } finally {
    for (const { conn } of streams) conn.close();
    await api.kill();
  }
}
