import { randomUUID } from 'node:crypto';
import { inLanes, type BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork } from './support/networkFixture';
import { describeTally, tallyOperations } from './support/operationTally';
import { percentile, timed } from './support/percentiles';
import type { BenchScale } from './support/scale';
import { rawDatabase } from '../store';

/**
 * B5 history: GET /v1/chats/:id/messages (a page of 50, newest first) against Synapse's
 * /rooms/:id/messages for the same user with the same filter, interleaved.
 */
export async function historyPage(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const net = await createNetwork(b, { customers: { carol: 'Carol Christensen', dave: 'Dave Dubois' } });
  const carol = net.customer('carol');
  const chat = await b.ok('POST', '/v1/chats', carol, { userId: 'dave', via: { type: 'community' } });
  const senders = [net.customerUserId('carol'), net.customerUserId('dave')];
  const indexes = Array.from({ length: scale.b5HistoryMessages }, (_, i) => i);
  await inLanes(indexes, 4, async (i) => {
    await b.matrix.sendEvent(chat.matrixRoomId, 'm.room.message', `b5-${i}-${randomUUID()}`, { msgtype: 'm.text', body: `history message ${i} `.repeat(4) }, senders[i % 2]);
  });

  const filter = { types: ['m.room.message'], lazy_load_members: true };
  const viaPortal = async () => {
    const { ms, value } = await timed(() => b.api('GET', `/v1/chats/${chat.id}/messages?limit=50`, carol));
    if (value.status !== 200 || value.body.messages.length !== 50) throw new Error(`history answered ${value.status} with ${value.body?.messages?.length} messages`);
    return ms;
  };
  const direct = async () => {
    const { ms, value } = await timed(() => b.matrix.messages(chat.matrixRoomId, senders[0]!, { limit: 50, dir: 'b', filter }));
    if (value.chunk.length !== 50) throw new Error(`Synapse /messages gave ${value.chunk.length} events`);
    return ms;
  };
  // One MongoDB round trip (a lookup by _id), for the breakdown of the portal's overhead.
  const conversations = rawDatabase().collection('conversations');
  const lookup = async () => (await timed(() => conversations.findOne({ _id: chat.id } as Record<string, unknown>))).ms;
  const tally = tallyOperations();
  const portalMs: number[] = [];
  const directMs: number[] = [];
  const lookupMs: number[] = [];
  const warmup = 5;
  for (let i = 0; i < scale.b5Requests + warmup; i++) {
    const portalFirst = i % 2 === 0;
    const first = await (portalFirst ? viaPortal() : direct());
    const second = await (portalFirst ? direct() : viaPortal());
    const roundTrip = await lookup();
    if (i < warmup) continue;
    portalMs.push(portalFirst ? first : second);
    directMs.push(portalFirst ? second : first);
    lookupMs.push(roundTrip);
  }
  const operations = describeTally(tally.stop(), scale.b5Requests + warmup, 'history request');
  const note = `${scale.b5Requests} interleaved pairs; room with ${scale.b5HistoryMessages} messages; direct = Synapse /messages as the same virtual user, same filter; one MongoDB lookup by _id p50 ${percentile(lookupMs, 50).toFixed(2)} ms in the same loop; ${operations}`;
  return [
    result({ id: 'B5', metric: 'history page of 50 p50', unit: 'ms', value: percentile(portalMs, 50), baseline: percentile(directMs, 50), target: 1.3, targetOn: 'ratio', better: 'lower', note }),
    result({ id: 'B5', metric: 'history page of 50 p99', unit: 'ms', value: percentile(portalMs, 99), baseline: percentile(directMs, 99), target: null, targetOn: 'ratio', better: 'lower' }),
  ];
}
