import { randomUUID } from 'node:crypto';
import type { BenchStack } from './benchStack';
import { createNetwork, type BenchNetwork } from './networkFixture';

const ARRIVAL_TIMEOUT_MS = 30000;

/**
 * What B1 and B6 share: a direct chat between Alice and Bob, arrivals awaited by message body, the
 * same message sent straight to Synapse by Alice's virtual user, and the interleaved loop (portal
 * and direct alternate, and which goes first alternates too, so drift on a shared machine hits
 * both alike).
 */
export interface DirectPair {
  net: BenchNetwork;
  chat: { id: string; matrixRoomId: string };
  /** A promise of the time `body` arrives where it is awaited (rejects after 30 s). */
  arrival(body: string, where: string): Promise<number>;
  /** Tells the waiting arrival of `body` (if any) that it arrived at `at`. */
  arrived(body: string, at: number): void;
  /** Sends `body` on Synapse as Alice's virtual user; resolves with the time from start to its arrival. */
  sendDirect(body: string, txnId: string, where: string): Promise<number>;
  /** Sends `body` through the portal as Alice; the same. */
  sendViaPortal(body: string, txnId: string, where: string): Promise<number>;
}

export async function directPair(b: BenchStack): Promise<DirectPair> {
  const net = await createNetwork(b, { customers: { alice: 'Alice Andersen', bob: 'Bob Bauer' } });
  const alice = net.customer('alice');
  const chat = await b.ok('POST', '/v1/chats', alice, { userId: 'bob', via: { type: 'community' } });
  const waiting = new Map<string, (at: number) => void>();
  const arrival = (body: string, where: string) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`"${body}" did not reach ${where} in ${ARRIVAL_TIMEOUT_MS} ms`)), ARRIVAL_TIMEOUT_MS);
      waiting.set(body, (at) => {
        clearTimeout(timer);
        waiting.delete(body);
        resolve(at);
      });
    });
  return {
    net,
    chat,
    arrival,
    arrived: (body, at) => waiting.get(body)?.(at),
    sendDirect: async (body, txnId, where) => {
      const seen = arrival(body, where);
      const start = performance.now();
      await b.matrix.sendEvent(chat.matrixRoomId, 'm.room.message', txnId, { msgtype: 'm.text', body }, net.customerUserId('alice'));
      return (await seen) - start;
    },
    sendViaPortal: async (body, txnId, where) => {
      const seen = arrival(body, where);
      const start = performance.now();
      const res = await b.api('POST', `/v1/chats/${chat.id}/messages`, alice, { txnId, body });
      if (res.status !== 201) throw new Error(`portal send answered ${res.status}: ${JSON.stringify(res.body)}`);
      return (await seen) - start;
    },
  };
}

/** `n` measured pairs after `warmup` unmeasured ones, the order alternating. */
export async function interleavedPairs(
  n: number,
  warmup: number,
  viaPortal: (i: number) => Promise<number>,
  direct: (i: number) => Promise<number>,
): Promise<{ portalMs: number[]; directMs: number[] }> {
  const portalMs: number[] = [];
  const directMs: number[] = [];
  for (let i = 0; i < n + warmup; i++) {
    const pair = i % 2 === 0 ? [viaPortal, direct] : [direct, viaPortal];
    const first = await pair[0]!(i);
    const second = await pair[1]!(i);
    if (i < warmup) continue;
    (pair[0] === viaPortal ? portalMs : directMs).push(first);
    (pair[1] === viaPortal ? portalMs : directMs).push(second);
  }
  return { portalMs, directMs };
}

export const uniqueBody = (prefix: string, i: number) => `${prefix} ${i} ${randomUUID()}`;
