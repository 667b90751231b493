import { randomUUID } from 'node:crypto';
import type { BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { matrixClientFor } from './support/networkFixture';
import { directPair, interleavedPairs, uniqueBody } from './support/pairedSends';
import { describeTally, tallyOperations } from './support/operationTally';
import { percentile } from './support/percentiles';
import type { BenchScale } from './support/scale';

/**
 * B1 send latency: a message sent through the portal (POST /v1/chats/:id/messages) until the
 * recipient's matrix-js-sdk client sees it in /sync, against the same message sent by the same
 * virtual user straight to Synapse's client API. The two kinds alternate, and which goes first
 * alternates too, so drift on a shared machine hits both alike.
 */
export async function sendLatency(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const n = scale.b1Messages;
  const pair = await directPair(b);
  const client = await matrixClientFor(b, pair.net.customer('bob'), (m) => pair.arrived(m.body, m.at));
  const viaPortal = (i: number) => pair.sendViaPortal(uniqueBody('b1 portal', i), `b1-${i}-${randomUUID()}`, "the recipient's /sync");
  const direct = (i: number) => pair.sendDirect(uniqueBody('b1 direct', i), `b1d-${i}-${randomUUID()}`, "the recipient's /sync");
  const warmup = 5;
  const tally = tallyOperations();
  let measured: { portalMs: number[]; directMs: number[] };
  try {
    measured = await interleavedPairs(n, warmup, viaPortal, direct);
  } finally {
    client.stopClient();
  }
  // Both kinds of send reach the appservice as events; the tally covers both paths.
  const operations = describeTally(tally.stop(), n + warmup, 'pair (portal send + direct send, each indexed by the appservice)');
  const note = `${n} interleaved pairs after ${warmup} warm-up pairs; one direct chat; recipient is a matrix-js-sdk client syncing; ${operations}`;
  return [
    result({ id: 'B1', metric: 'send→/sync latency p50', unit: 'ms', value: percentile(measured.portalMs, 50), baseline: percentile(measured.directMs, 50), target: 1.25, targetOn: 'ratio', better: 'lower', note }),
    result({ id: 'B1', metric: 'send→/sync latency p99', unit: 'ms', value: percentile(measured.portalMs, 99), baseline: percentile(measured.directMs, 99), target: null, targetOn: 'ratio', better: 'lower' }),
  ];
}
