import { randomUUID } from 'node:crypto';
import type { MatrixEvent } from '../appservice/matrix/matrixApi';
import { eventually, inLanes, type BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork } from './support/networkFixture';
import { describeTally, tallyOperations } from './support/operationTally';
import { queryPlan } from './support/queryPlan';
import type { BenchScale } from './support/scale';
import { AppserviceTransactionModel, ProcessedEventModel, rawDatabase } from '../store';

/** Concurrent senders pushing events into Synapse as fast as it accepts them. */
const SEND_CONCURRENCY = 16;

/**
 * B2 appservice ingest.
 *  1. Baseline: events/s Synapse itself pushes to the appservice. Messages are sent straight to
 *     Synapse (as virtual users, 16 at a time, into two direct and two support conversations) and
 *     the rate is the count over the time from the first send to the arrival (stored transaction)
 *     of the last one.
 *  2. Ingest: the transactions Synapse pushed are recorded (they are stored as they arrived) and
 *     replayed to the transaction endpoint with fresh txnIds and event ids; the rate is events over
 *     the time from the first PUT until every event is processed (de-duplication record and index
 *     updates done).
 */
export async function appserviceIngest(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const n = scale.b2Events;
  const net = await createNetwork(b, {
    customers: { c1: 'Ingest One', c2: 'Ingest Two', c3: 'Ingest Three', c4: 'Ingest Four', c5: 'Ingest Five', c6: 'Ingest Six' },
    admins: { a1: 'Ingest Admin' },
  });
  const rooms: Array<{ roomId: string; sender: string }> = [];
  for (const [a, other] of [['c1', 'c2'], ['c3', 'c4']] as const) {
    const chat = await b.ok('POST', '/v1/chats', net.customer(a), { userId: other, via: { type: 'community' } });
    rooms.push({ roomId: chat.matrixRoomId, sender: net.customerUserId(a) });
  }
  for (const c of ['c5', 'c6']) {
    const chat = await b.ok('POST', '/v1/chats/support', net.customer(c));
    rooms.push({ roomId: chat.matrixRoomId, sender: net.customerUserId(c) });
  }

  // 1. What Synapse pushes.
  const marker = `b2-${randomUUID()}`;
  const since = new Date(Date.now() - 1000);
  const sendStart = Date.now();
  const eventIds = new Set<string>();
  await inLanes(Array.from({ length: n }, (_, i) => i), SEND_CONCURRENCY, async (i) => {
    const room = rooms[i % rooms.length]!;
    eventIds.add(await b.matrix.sendEvent(room.roomId, 'm.room.message', `${marker}-${i}`, { msgtype: 'm.text', body: `${marker} message ${i}` }, room.sender));
  });
  const recorded = await eventually(
    `Synapse to push all ${n} events`,
    async () => {
      const txns = await AppserviceTransactionModel.find({ createdAt: { $gte: since } }).sort({ createdAt: 1 }).lean();
      const ours = txns
        .map((t) => ({ at: new Date(t.createdAt as Date).getTime(), events: (JSON.parse(t.eventsJson) as MatrixEvent[]).filter((e) => eventIds.has(e.event_id)) }))
        .filter((t) => t.events.length > 0);
      const count = ours.reduce((s, t) => s + t.events.length, 0);
      return count >= n ? ours : null;
    },
    300000,
    250,
  );
  const lastArrival = Math.max(...recorded.map((t) => t.at));
  const pushRate = n / ((lastArrival - sendStart) / 1000);

  // The appservice finishes what Synapse pushed before the replay starts, so only replayed events are counted.
  await eventually('the pushed events to be processed', async () => (await ProcessedEventModel.countDocuments({ _id: { $in: [...eventIds] } })) >= n, 600000, 250);

  // 2. Replay of the recorded transactions, as new events.
  const replay = recorded.map((t) => ({
    txnId: `replay-${randomUUID()}`,
    events: t.events.map((e) => ({ ...e, event_id: `${e.event_id}_replay` })),
  }));
  // Counted through the driver, so the tally below holds the appservice's operations only.
  const processedEvents = rawDatabase().collection('processed_events');
  const before = await processedEvents.countDocuments({});
  const url = `${b.config.appservice.url}/_matrix/app/v1/transactions/`;
  const tally = tallyOperations();
  const ingestStart = Date.now();
  for (const txn of replay) {
    const res = await fetch(url + encodeURIComponent(txn.txnId), {
      method: 'PUT',
      headers: { authorization: `Bearer ${b.registration.hsToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: txn.events }),
    });
    if (res.status !== 200) throw new Error(`transaction endpoint answered ${res.status}`);
    await res.text();
  }
  // Transactions are applied in arrival order and their event ids recorded when each is done, so
  // the last transaction's last event marks the end. Polled by _id: a count over the whole
  // collection would compete with the work it measures (FerretDB scans for it).
  const lastEventId = replay[replay.length - 1]!.events.at(-1)!.event_id;
  await eventually(`the appservice to process ${n} replayed events`, async () => (await processedEvents.findOne({ _id: lastEventId as never })) !== null, 600000, 20);
  const ingestRate = n / ((Date.now() - ingestStart) / 1000);
  const processedCount = (await processedEvents.countDocuments({})) - before;
  if (processedCount < n) throw new Error(`only ${processedCount} of ${n} replayed events were recorded as processed`);
  const operations = describeTally(tally.stop(), n, 'event');
  // The processor's "next unprocessed transaction" query, over every transaction ever stored.
  const stored = await AppserviceTransactionModel.estimatedDocumentCount();
  const nextTxnPlan = await queryPlan('appservice_transactions', { processedAt: { $exists: false } }, { createdAt: 1, _id: 1 }, 1);
  const sizes = recorded.map((t) => t.events.length);
  return [
    result({
      id: 'B2',
      metric: 'appservice ingest',
      unit: 'events/s',
      value: ingestRate,
      baseline: pushRate,
      target: 5,
      targetOn: 'ratio',
      better: 'higher',
      note: `${n} m.room.message events in ${recorded.length} recorded transactions (${Math.min(...sizes)}–${Math.max(...sizes)} events each), replayed sequentially; baseline = Synapse accepting ${SEND_CONCURRENCY} concurrent sends and pushing them to the appservice; ingest cost: ${operations}; next-transaction query over ${stored} stored transactions: ${nextTxnPlan}`,
    }),
  ];
}
