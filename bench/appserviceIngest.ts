import { randomUUID } from 'node:crypto';
import type { MatrixEvent } from '../appservice/matrix/matrixApi';
import type { EphemeralEvent } from '../appservice/transactionProcessor';
import { eventually, inLanes, type BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork } from './support/networkFixture';
import { describeTally, tallyOperations } from './support/operationTally';
import { cpuBetween, cpuSnapshot, describeCpuPerUnit } from './support/processCpu';
import { availableParallelism } from 'node:os';
import { queryPlan } from './support/queryPlan';
import type { BenchScale } from './support/scale';
import { AppserviceTransactionModel, ConversationModel, readMarkerId, rawDatabase } from '../store';

/** Blocks of events being sent at once (each block goes to one room, its events in order). */
const SEND_CONCURRENCY = 16;
/**
 * One block of the mix, sent into one room in this order: six texts, an image attachment, an edit
 * of the first text, a redaction of the second, a closing text, and the other participant's read
 * receipt on that closing text. Ten timeline events and one receipt.
 */
const BLOCK_TIMELINE_EVENTS = 10;
/** Receipts are complete when none has arrived for this long (after every timeline event). */
const RECEIPTS_SETTLE_MS = 3000;
/** Replayed transactions asked for per poll while waiting for them to be applied. */
const MARK_POLL_BATCH = 16;
/** A 1×1 PNG: the attachment guard downloads it from Synapse and checks its magic bytes. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

interface Recorded {
  at: number;
  events: MatrixEvent[];
  ephemeral: EphemeralEvent[];
}

/**
 * B2 appservice ingest, with the mix Matrix clients produce: texts, image attachments, edits,
 * redactions and read receipts.
 *  1. Baseline: the rate at which Synapse itself takes that mix from clients and pushes it to the
 *     appservice. Blocks of the mix are sent straight to Synapse as virtual users (16 blocks at a
 *     time, into two direct and two support conversations); the rate is timeline events plus
 *     the receipts Synapse pushed over the time from the first send to the arrival (stored
 *     transaction) of the last.
 *  2. Ingest: the transactions Synapse pushed are recorded (they are stored as they arrived) and
 *     replayed to the transaction endpoint with fresh txnIds as new events: every event id gets a
 *     suffix, and so does every reference to one (a redaction's target, an edit's original, a
 *     receipt's event), and timestamps move past the originals, so each replayed event does the
 *     work its original did — previews and the support inbox head move forward, the redaction
 *     finds its message, the receipt its marker, the attachment is fetched and checked. The rate is
 *     the same count over the time from the first PUT until the last transaction is applied.
 *  The replay is checked to have done the same work as the originals (index entries, redactions,
 *  notifications, previews, read markers); otherwise there is no figure.
 *
 * The ratio, ingest ÷ push, is spare capacity: how many times faster the appservice works through
 * this mix than this Synapse produces it. It is not an overhead (≥ 1 means it keeps up).
 */
export async function appserviceIngest(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const blocks = Math.ceil(scale.b2Events / BLOCK_TIMELINE_EVENTS);
  const net = await createNetwork(b, {
    customers: { c1: 'Ingest One', c2: 'Ingest Two', c3: 'Ingest Three', c4: 'Ingest Four', c5: 'Ingest Five', c6: 'Ingest Six' },
    admins: { a1: 'Ingest Admin' },
  });
  await b.ok('PATCH', `/v1/networks/${net.net}/settings`, net.admin('a1'), { attachments: { allowedTypes: ['image/png'], maxBytes: 1024 * 1024 } });
  const rooms: Array<{ roomId: string; chatId: string; sender: string; reader: string; readerRef: { kind: 'customer' | 'admin'; id: string }; mxc: string }> = [];
  for (const [a, other] of [['c1', 'c2'], ['c3', 'c4']] as const) {
    const chat = await b.ok('POST', '/v1/chats', net.customer(a), { userId: other, via: { type: 'community' } });
    rooms.push({ roomId: chat.matrixRoomId, chatId: chat.id, sender: net.customerUserId(a), reader: net.customerUserId(other), readerRef: { kind: 'customer', id: other }, mxc: '' });
  }
  for (const c of ['c5', 'c6']) {
    const chat = await b.ok('POST', '/v1/chats/support', net.customer(c));
    rooms.push({ roomId: chat.matrixRoomId, chatId: chat.id, sender: net.customerUserId(c), reader: net.adminUserId('a1'), readerRef: { kind: 'admin', id: 'a1' }, mxc: '' });
  }
  // Uploads are setup: a Matrix client uploads before it sends, and the appservice never sees them.
  for (const room of rooms) room.mxc = await b.matrix.uploadMedia(PNG, 'image/png', 'pixel.png', room.sender);

  // 1. What Synapse takes and pushes.
  const marker = `b2-${randomUUID()}`;
  const since = new Date(Date.now() - 1000);
  const timeline = new Set<string>();
  const receiptTargets = new Set<string>();
  const mix = { text: 0, image: 0, edit: 0, redaction: 0, receipt: 0 };
  const duplicates: string[] = [];
  const sendStart = Date.now();
  await inLanes(Array.from({ length: blocks }, (_, i) => i), SEND_CONCURRENCY, async (block) => {
    const room = rooms[block % rooms.length]!;
    const send = async (type: string, content: Record<string, unknown>, kind: keyof typeof mix) => {
      const id = await b.matrix.sendEvent(room.roomId, type, `${marker}-${randomUUID()}`, content, room.sender);
      // Identical content from one sender at the same moment would be one event (v12 event ids are hashes).
      if (timeline.has(id)) duplicates.push(`${kind} ${id}`);
      timeline.add(id);
      mix[kind]++;
      return id;
    };
    const texts: string[] = [];
    for (let i = 0; i < 6; i++) texts.push(await send('m.room.message', { msgtype: 'm.text', body: `${marker} block ${block} message ${i}` }, 'text'));
    await send('m.room.message', { msgtype: 'm.image', body: `pixel ${block}.png`, url: room.mxc, info: { mimetype: 'image/png', size: PNG.length, w: 1, h: 1 } }, 'image');
    await send(
      'm.room.message',
      { msgtype: 'm.text', body: `* ${marker} block ${block} message 0, edited`, 'm.new_content': { msgtype: 'm.text', body: `${marker} block ${block} message 0, edited` }, 'm.relates_to': { rel_type: 'm.replace', event_id: texts[0] } },
      'edit',
    );
    const redaction = await b.matrix.redact(room.roomId, texts[1]!, `${marker}-${randomUUID()}`, room.sender, 'bench');
    if (timeline.has(redaction)) duplicates.push(`redaction ${redaction}`);
    timeline.add(redaction);
    mix.redaction++;
    const last = await send('m.room.message', { msgtype: 'm.text', body: `${marker} block ${block} last message` }, 'text');
    await b.matrix.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(room.roomId)}/receipt/m.read/${encodeURIComponent(last)}`, { asUser: room.reader, body: {} });
    receiptTargets.add(last);
    mix.receipt++;
  });
  if (duplicates.length) throw new Error(`Synapse answered ${duplicates.length} sends with an event id it had given before: ${duplicates.slice(0, 3).join(', ')}`);
  // Synapse pushes a reader's receipts as their latest position: one that a later receipt of the
  // same reader overtook before the push may never come. Every timeline event must arrive; the
  // receipts are those that arrived once none has come for RECEIPTS_SETTLE_MS (at least one per room).
  let seen = { events: 0, receipts: 0 };
  let receiptsStableSince = Date.now();
  const recorded = await eventually(
    `Synapse to push all ${timeline.size} events and the receipts`,
    async () => {
      const txns = await AppserviceTransactionModel.find({ createdAt: { $gte: since } }).sort({ createdAt: 1 }).lean();
      const ours: Recorded[] = [];
      let events = 0;
      const receipts = new Set<string>();
      for (const t of txns) {
        const evs = (JSON.parse(t.eventsJson) as MatrixEvent[]).filter((e) => timeline.has(e.event_id));
        const eph = (JSON.parse(t.ephemeralJson) as EphemeralEvent[]).flatMap((e) => ourReceipt(e, receiptTargets));
        for (const e of eph) for (const id of Object.keys(e.content ?? {})) receipts.add(id);
        events += evs.length;
        if (evs.length || eph.length) ours.push({ at: new Date(t.createdAt as Date).getTime(), events: evs, ephemeral: eph });
      }
      if (receipts.size !== seen.receipts) receiptsStableSince = Date.now();
      seen = { events, receipts: receipts.size };
      const roomsWithReceipt = new Set(ours.flatMap((t) => t.ephemeral.map((e) => e.room_id)));
      if (events < timeline.size || roomsWithReceipt.size < rooms.length || Date.now() - receiptsStableSince < RECEIPTS_SETTLE_MS) return null;
      return ours;
    },
    300000,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message} (${seen.events} events and ${seen.receipts} receipts arrived)`);
  });
  const pushedReceipts = recorded.reduce((sum, t) => sum + t.ephemeral.reduce((k, e) => k + Object.keys(e.content ?? {}).length, 0), 0);
  const total = timeline.size + pushedReceipts;
  const lastArrival = Math.max(...recorded.map((t) => t.at));
  const pushRate = total / ((lastArrival - sendStart) / 1000);

  // The appservice finishes what Synapse pushed before the replay starts, so only replayed work is timed.
  const transactions = rawDatabase().collection('appservice_transactions');
  await eventually('the pushed transactions to be processed', async () => (await AppserviceTransactionModel.countDocuments({ createdAt: { $gte: since }, processedAt: { $exists: false } })) === 0, 600000, 250);
  const original = await effects(rooms, [...timeline]);

  // 2. Replay of the recorded transactions, as new events that are newer than everything so far.
  const replayId = (id: string) => (timeline.has(id) || receiptTargets.has(id) ? `${id}_replay` : id);
  const firstTs = Math.min(...recorded.flatMap((t) => t.events.map((e) => e.origin_server_ts)));
  const shift = Date.now() + 1000 - firstTs;
  const replay = recorded.map((t) => ({
    txnId: `replay-${randomUUID()}`,
    events: t.events.map((e) => replayEvent(e, replayId, shift)),
    ephemeral: t.ephemeral.map((e) => ({ ...e, content: Object.fromEntries(Object.entries(e.content ?? {}).map(([id, r]) => [replayId(id), r])) })),
  }));
  const url = `${b.config.appservice.url}/_matrix/app/v1/transactions/`;
  const tally = tallyOperations();
  const cpuBefore = cpuSnapshot();
  const ingestStart = Date.now();
  for (const txn of replay) {
    const res = await fetch(url + encodeURIComponent(txn.txnId), {
      method: 'PUT',
      headers: { authorization: `Bearer ${b.registration.hsToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: txn.events, ephemeral: txn.ephemeral }),
    });
    if (res.status !== 200) throw new Error(`transaction endpoint answered ${res.status}`);
    await res.text();
  }
  // Each transaction is marked when its events are done (its receipts included). Rooms are worked
  // on side by side, so a later transaction (other rooms) can be marked before an earlier one: the
  // end is when every one is marked. Polled by _id through the driver (one `$in` query, answered
  // from the _id index): not in the tally, and a count over the whole collection would compete
  // with the work it measures (FerretDB scans for it).
  // Asked for in the order they were sent, a few at a time, and only until one is not marked yet:
  // FerretDB decodes every document a query names (the events each holds included) before it
  // filters and projects, so asking for every transaction not seen marked every 20 ms was most of
  // the database's work in this phase (it grew with the backlog: 660 transactions at the default
  // scale). Transactions of other rooms can be marked out of order; each is still checked.
  const unmarked = replay.map((t) => t.txnId);
  await eventually(
    `the appservice to apply ${replay.length} replayed transactions`,
    async () => {
      while (unmarked.length > 0) {
        const next = unmarked.slice(0, MARK_POLL_BATCH);
        const marked = new Set((await transactions.find({ _id: { $in: next as never[] }, processedAt: { $exists: true } }, { projection: { _id: 1 } }).toArray()).map((t) => String(t._id)));
        const pending = next.filter((id) => !marked.has(id));
        unmarked.splice(0, next.length, ...pending);
        if (pending.length > 0) return false;
      }
      return true;
    },
    600000,
    20,
  );
  const ingestRate = total / ((Date.now() - ingestStart) / 1000);
  const cpu = cpuBetween(cpuBefore, cpuSnapshot());
  const operations = describeTally(tally.stop(), total, 'event', 8);

  // The replay did what the originals did, or the figure is not one.
  const replayed = await effects(rooms, [...timeline].map(replayId));
  const differences = (Object.keys(original) as Array<keyof Effects>).filter((k) => k !== 'previews' && k !== 'readMarkers' && original[k] !== replayed[k]).map((k) => `${k} ${original[k]} → ${replayed[k]}`);
  if (replayed.previews !== rooms.length) differences.push(`${rooms.length - replayed.previews} previews not moved to a replayed message`);
  if (replayed.readMarkers !== rooms.length) differences.push(`${rooms.length - replayed.readMarkers} read markers not moved by a replayed receipt`);
  if (original.indexed === 0 || original.redacted === 0 || original.notifications === 0) differences.push(`the originals did not do the work (indexed ${original.indexed}, redacted ${original.redacted}, notifications ${original.notifications})`);
  if (differences.length) throw new Error(`the replay did not do the originals' work: ${differences.join('; ')}`);

  // The processor's "next unprocessed transaction" query, over every transaction ever stored.
  const stored = await AppserviceTransactionModel.estimatedDocumentCount();
  const nextTxnPlan = await queryPlan('appservice_transactions', { processedAt: { $exists: false } }, { createdAt: 1, _id: 1 }, 1);
  const sizes = recorded.map((t) => t.events.length + t.ephemeral.length);
  return [
    result({
      id: 'B2',
      metric: 'appservice ingest (spare capacity: ingest ÷ Synapse push)',
      unit: 'events/s',
      value: ingestRate,
      baseline: pushRate,
      target: 5,
      targetOn: 'ratio',
      better: 'higher',
      note: `${total} events: ${mix.text} texts, ${mix.image} image attachments, ${mix.edit} edits, ${mix.redaction} redactions, ${pushedReceipts} read receipts (of ${mix.receipt} sent: Synapse pushes a reader's latest), in ${recorded.length} recorded transactions (${Math.min(...sizes)}–${Math.max(...sizes)} each), replayed sequentially as new events; baseline = Synapse taking ${SEND_CONCURRENCY} blocks of the mix at a time from clients and pushing them; replay checked against the originals (${replayed.indexed} index entries, ${replayed.redacted} redacted, ${replayed.notifications} notifications, ${replayed.previews} previews and ${replayed.readMarkers} read markers moved); ingest cost: ${operations}; CPU per event, every process of the bench: ${describeCpuPerUnit(cpu, total, "event", availableParallelism())}; next-transaction query over ${stored} stored transactions: ${nextTxnPlan}`,
    }),
  ];
}

/** The receipts of an ephemeral event that point at our events (only those entries). */
function ourReceipt(e: EphemeralEvent, targets: ReadonlySet<string>): EphemeralEvent[] {
  if (e.type !== 'm.receipt' || !e.content) return [];
  const content = Object.fromEntries(Object.entries(e.content).filter(([id]) => targets.has(id)));
  return Object.keys(content).length ? [{ ...e, content }] : [];
}

function replayEvent(e: MatrixEvent, replayId: (id: string) => string, shift: number): MatrixEvent {
  const content = { ...(e.content ?? {}) } as Record<string, unknown>;
  if (typeof content.redacts === 'string') content.redacts = replayId(content.redacts);
  const relation = content['m.relates_to'] as { event_id?: string } | undefined;
  if (relation?.event_id) content['m.relates_to'] = { ...relation, event_id: replayId(relation.event_id) };
  return {
    ...e,
    event_id: replayId(e.event_id),
    origin_server_ts: e.origin_server_ts + shift,
    content,
    ...(typeof e.redacts === 'string' ? { redacts: replayId(e.redacts) } : {}),
  };
}

interface Effects {
  processed: number;
  indexed: number;
  redacted: number;
  notifications: number;
  /** Conversations whose preview is one of `ids`. */
  previews: number;
  /** Readers whose marker is one of `ids`. */
  readMarkers: number;
}

/** What the appservice made of these event ids: one lookup by `_id` each, 16 at a time. */
async function effects(rooms: ReadonlyArray<{ chatId: string; readerRef: { kind: 'customer' | 'admin'; id: string } }>, ids: readonly string[]): Promise<Effects> {
  const db = rawDatabase();
  const out: Effects = { processed: 0, indexed: 0, redacted: 0, notifications: 0, previews: 0, readMarkers: 0 };
  await inLanes(ids, 16, async (id) => {
    if (await db.collection('processed_events').findOne({ _id: id as never }, { projection: { _id: 1 } })) out.processed++;
    const entry = await db.collection('indexed_messages').findOne({ _id: id as never }, { projection: { redacted: 1 } });
    if (entry) out.indexed++;
    if (entry?.redacted) out.redacted++;
  });
  out.notifications = await db.collection('admin_notifications').countDocuments({ messageId: { $in: [...ids] } });
  const set = new Set(ids);
  for (const room of rooms) {
    const conversation = await ConversationModel.findById(room.chatId).select({ lastMessage: 1 }).lean();
    if (conversation?.lastMessage?.eventId && set.has(conversation.lastMessage.eventId)) out.previews++;
    const readMarker = await db.collection('read_markers').findOne({ _id: readMarkerId(room.chatId, room.readerRef) as never });
    if (typeof readMarker?.eventId === 'string' && set.has(readMarker.eventId)) out.readMarkers++;
  }
  return out;
}
