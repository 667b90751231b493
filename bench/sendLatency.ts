import { randomUUID } from 'node:crypto';
import type { BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork, matrixClientFor } from './support/networkFixture';
import { describeTally, tallyOperations } from './support/operationTally';
import { percentile } from './support/percentiles';
import type { BenchScale } from './support/scale';

const ARRIVAL_TIMEOUT_MS = 30000;

/**
 * B1 send latency: a message sent through the portal (POST /v1/chats/:id/messages) until the
 * recipient's matrix-js-sdk client sees it in /sync, against the same message sent by the same
 * virtual user straight to Synapse's client API. The two kinds alternate, and which goes first
 * alternates too, so drift on a shared machine hits both alike.
 */
export async function sendLatency(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const n = scale.b1Messages;
  const net = await createNetwork(b, { customers: { alice: 'Alice Andersen', bob: 'Bob Bauer' } });
  const alice = net.customer('alice');
  const chat = await b.ok('POST', '/v1/chats', alice, { userId: 'bob', via: { type: 'community' } });

  const waiting = new Map<string, (at: number) => void>();
  const client = await matrixClientFor(b, net.customer('bob'), (m) => waiting.get(m.body)?.(m.at));
  const arrival = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`"${body}" did not reach the recipient's /sync in ${ARRIVAL_TIMEOUT_MS} ms`)), ARRIVAL_TIMEOUT_MS);
      waiting.set(body, (at) => {
        clearTimeout(timer);
        waiting.delete(body);
        resolve(at);
      });
    });

  const viaPortal = async (i: number) => {
    const body = `b1 portal ${i} ${randomUUID()}`;
    const seen = arrival(body);
    const start = performance.now();
    const res = await b.api('POST', `/v1/chats/${chat.id}/messages`, alice, { txnId: `b1-${i}-${randomUUID()}`, body });
    if (res.status !== 201) throw new Error(`portal send answered ${res.status}: ${JSON.stringify(res.body)}`);
    return (await seen) - start;
  };
  const direct = async (i: number) => {
    const body = `b1 direct ${i} ${randomUUID()}`;
    const seen = arrival(body);
    const start = performance.now();
    await b.matrix.sendEvent(chat.matrixRoomId, 'm.room.message', `b1d-${i}-${randomUUID()}`, { msgtype: 'm.text', body }, net.customerUserId('alice'));
    return (await seen) - start;
  };

  const portalMs: number[] = [];
  const directMs: number[] = [];
  const warmup = 5;
  const tally = tallyOperations();
  try {
    for (let i = 0; i < n + warmup; i++) {
      const pair = i % 2 === 0 ? [viaPortal, direct] : [direct, viaPortal];
      const first = await pair[0]!(i);
      const second = await pair[1]!(i);
      if (i < warmup) continue;
      (pair[0] === viaPortal ? portalMs : directMs).push(first);
      (pair[1] === viaPortal ? portalMs : directMs).push(second);
    }
  } finally {
    client.stopClient();
  }
  // Both kinds of send reach the appservice as events; the tally covers both paths.
  const operations = describeTally(tally.stop(), n + warmup, 'pair (portal send + direct send, each indexed by the appservice)');
  const note = `${n} interleaved pairs after ${warmup} warm-up pairs; one direct chat; recipient is a matrix-js-sdk client syncing; ${operations}`;
  return [
    result({ id: 'B1', metric: 'send→/sync latency p50', unit: 'ms', value: percentile(portalMs, 50), baseline: percentile(directMs, 50), target: 1.25, targetOn: 'ratio', better: 'lower', note }),
    result({ id: 'B1', metric: 'send→/sync latency p99', unit: 'ms', value: percentile(portalMs, 99), baseline: percentile(directMs, 99), target: null, targetOn: 'ratio', better: 'lower' }),
  ];
}
