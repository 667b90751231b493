import { randomUUID } from 'node:crypto';
import type { BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork, matrixClientFor } from './support/networkFixture';
import { directPair, interleavedPairs, uniqueBody } from './support/pairedSends';
import { percentile } from './support/percentiles';
import type { BenchScale } from './support/scale';
import { openEventStream, type EventStreamConnection } from '../tests/support/eventStreamClient';

const ARRIVAL_TIMEOUT_MS = 30000;

/**
 * B6 live delivery: a message sent through the portal by A until the `message.created` event is
 * on B's event stream, against the same message sent straight to Synapse by A's virtual user until
 * B's matrix-js-sdk client sees it in /sync. Interleaved, which goes first alternating.
 */
export async function liveDelivery(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const n = scale.b6Messages;
  const pair = await directPair(b);
  const client = await matrixClientFor(b, pair.net.customer('bob'), (m) => {
    if (m.body.startsWith('b6 direct')) pair.arrived(m.body, m.at);
  });
  const stream = await openEventStream(b.baseUrl, {
    token: pair.net.customer('bob'),
    onEvent: (e) => {
      if (e.type === 'message.created' && typeof e.data?.body === 'string' && e.data.body.startsWith('b6 portal')) pair.arrived(e.data.body, e.receivedAt);
    },
  });
  if (stream.status !== 200) throw new Error(`the event stream answered ${stream.status}`);
  const viaPortal = (i: number) => pair.sendViaPortal(uniqueBody('b6 portal', i), `b6-${i}-${randomUUID()}`, "B's event stream");
  const direct = (i: number) => pair.sendDirect(uniqueBody('b6 direct', i), `b6d-${i}-${randomUUID()}`, "B's /sync");
  const warmup = 5;
  let measured: { portalMs: number[]; directMs: number[] };
  try {
    measured = await interleavedPairs(n, warmup, viaPortal, direct);
  } finally {
    stream.close();
    client.stopClient();
  }
  const { portalMs, directMs } = measured;
  const duplicates = countDuplicates(stream);
  if (duplicates > 0) throw new Error(`${duplicates} message.created events arrived twice on the stream`);
  const note = `${n} interleaved pairs after ${warmup} warm-up pairs; one direct chat; the stream read by a raw-HTTP SSE client, /sync by matrix-js-sdk; 0 duplicate message.created`;
  return [
    result({ id: 'B6', metric: 'portal send→stream event p50 (vs direct send→/sync)', unit: 'ms', value: percentile(portalMs, 50), baseline: percentile(directMs, 50), target: 1.0, targetOn: 'ratio', better: 'lower', note }),
    result({ id: 'B6', metric: 'portal send→stream event p99 (vs direct send→/sync)', unit: 'ms', value: percentile(portalMs, 99), baseline: percentile(directMs, 99), target: null, targetOn: 'ratio', better: 'lower' }),
  ];
}

/**
 * B8 resume: a listener disconnects, misses at least `b8MissedEvents` events (portal sends and
 * what the appservice announces after them), and reconnects with Last-Event-ID: the time until it
 * holds every missed event, checked against a listener that stayed connected (same ids, same
 * order, none twice).
 */
export async function liveResume(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const net = await createNetwork(b, { customers: { carla: 'Carla Cruz', dino: 'Dino Dahl' } });
  const carla = net.customer('carla');
  const chat = await b.ok('POST', '/v1/chats', carla, { userId: 'dino', via: { type: 'community' } });
  const steady = await openEventStream(b.baseUrl, { token: net.customer('dino') });
  const flaky = await openEventStream(b.baseUrl, { token: net.customer('dino') });
  try {
    await b.ok('POST', `/v1/chats/${chat.id}/messages`, carla, { txnId: `b8-first-${randomUUID()}`, body: 'before the gap' });
    await flaky.next((e) => e.type === 'message.created' && e.data.body === 'before the gap', ARRIVAL_TIMEOUT_MS);
    const resumeFrom = flaky.lastId()!;
    flaky.close();
    const gapStart = steady.events.findIndex((e) => e.id === resumeFrom) + 1;
    const missed = () => steady.events.length - gapStart;
    let i = 0;
    const lanes = Array.from({ length: 8 }, async () => {
      while (missed() < scale.b8MissedEvents) {
        const k = i++;
        await b.ok('POST', `/v1/chats/${chat.id}/messages`, carla, { txnId: `b8-${k}-${randomUUID()}`, body: `missed ${k}` });
      }
    });
    await Promise.all(lanes);
    // The appservice announces chat.updated after each message: wait until the steady listener is quiet.
    for (let last = -1; last !== steady.events.length; ) {
      last = steady.events.length;
      await new Promise((r) => setTimeout(r, 1500));
    }
    const expected = steady.events.slice(gapStart).map((e) => e.id);
    const start = performance.now();
    const resumed = await openEventStream(b.baseUrl, { token: net.customer('dino'), lastEventId: resumeFrom });
    await resumed.next((e) => e.id === expected.at(-1), ARRIVAL_TIMEOUT_MS, 'the last missed event');
    const ms = performance.now() - start;
    resumed.close();
    const got = resumed.events.map((e) => e.id);
    if (got.length !== expected.length || got.some((id, k) => id !== expected[k])) {
      throw new Error(`resume delivered ${got.length} events, expected ${expected.length} (first difference at ${got.findIndex((id, k) => id !== expected[k])})`);
    }
    const note = `${expected.length} missed events (${resumed.events.filter((e) => e.type === 'message.created').length} message.created, the rest chat.updated), all delivered in order, none twice, identical to a listener that stayed connected`;
    return [result({ id: 'B8', metric: `resume after missing ${expected.length} events`, unit: 'ms', value: ms, baseline: null, target: 1000, targetOn: 'value', better: 'lower', note })];
  } finally {
    steady.close();
    flaky.close();
  }
}

function countDuplicates(stream: EventStreamConnection): number {
  const ids = stream.events.filter((e) => e.type === 'message.created').map((e) => e.data.id);
  return ids.length - new Set(ids).size;
}
