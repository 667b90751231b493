import { randomUUID } from 'node:crypto';
import * as sdk from 'matrix-js-sdk';
import { inLanes, type BenchStack } from '../bench/support/benchStack';
import { createNetwork, matrixClientFor } from '../bench/support/networkFixture';
import type { ServiceProcess } from '../bench/support/serviceProcess';
import type { ScenarioResult } from './scenarioResult';
import { AdminNotificationModel, IndexedMessageModel, AppserviceTransactionModel, ConversationModel, ProcessedEventModel } from '../store';

const MESSAGES = 1000;
const CLIENTS = 4;
/** The appservice is killed when this many messages are sent, and restarted shortly after. */
const KILL_AT = [150, 450, 750];
const DOWN_MS = 1500;
/** How long the appservice gets to work through its backlog after the last restart. */
const PROCESSING_WAIT_MS = 600000;

/**
 * R1: the appservice (its own process) is SIGKILLed three times while four Matrix clients
 * (matrix-js-sdk, logged in through the portal's matrix-session) send 1,000 messages into support
 * conversations; it is restarted each time. Afterwards every sent event must be in the index exactly
 * once: the processed-event record, the message index (indexed_messages: every sent message, and an
 * empty index fails) and the administrators' notifications, with nothing extra and each preview the
 * room's last message.
 */
export async function appserviceCrash(b: BenchStack, appservice: ServiceProcess): Promise<ScenarioResult> {
  const customers = Object.fromEntries(Array.from({ length: CLIENTS }, (_, i) => [`r1-c${i}`, `Crash Customer ${i}`]));
  const net = await createNetwork(b, { customers, admins: { 'r1-admin': 'Crash Admin' } });
  const lanes: Array<{ client: sdk.MatrixClient; roomId: string; chatId: string; sent: string[] }> = [];
  for (const cid of Object.keys(customers)) {
    const chat = await b.ok('POST', '/v1/chats/support', net.customer(cid));
    lanes.push({ client: await matrixClientFor(b, net.customer(cid)), roomId: chat.matrixRoomId, chatId: chat.id, sent: [] });
  }
  const roomIds = lanes.map((l) => l.roomId);

  let sentCount = 0;
  let kills = 0;
  let restarting: Promise<void> = Promise.resolve();
  const killer = async () => {
    kills++;
    await appservice.kill();
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await appservice.start();
  };
  const sendFailures: string[] = [];
  await inLanes(lanes, CLIENTS, async (lane, laneIndex) => {
    for (let i = laneIndex; i < MESSAGES; i += CLIENTS) {
      const res = await lane.client.sendEvent(lane.roomId, 'm.room.message' as any, { msgtype: 'm.text', body: `r1 ${i} ${randomUUID()}` } as any).catch((err: Error) => {
        sendFailures.push(err.message);
        return null;
      });
      if (res) lane.sent.push(res.event_id);
      sentCount++;
      if (KILL_AT.includes(sentCount)) restarting = restarting.then(killer);
    }
  });
  await restarting;
  for (const lane of lanes) lane.client.stopClient();
  const sent = lanes.flatMap((l) => l.sent);

  const problems: string[] = [];
  if (sendFailures.length) problems.push(`${sendFailures.length} Matrix sends failed (${sendFailures[0]})`);
  if (kills !== KILL_AT.length) problems.push(`only ${kills} kills happened`);
  // Wait until the appservice has worked through everything stored (bounded): counting earlier
  // would call slow processing "lost". Then count once, with nothing moving.
  const waitStart = Date.now();
  let processed = 0;
  let unprocessed = 0;
  for (let stableSince = Date.now(); Date.now() - waitStart < PROCESSING_WAIT_MS; await new Promise((r) => setTimeout(r, 1000))) {
    const [p, u] = await Promise.all([
      ProcessedEventModel.countDocuments({ _id: { $in: sent } }),
      AppserviceTransactionModel.countDocuments({ processedAt: { $exists: false } }),
    ]);
    if (p !== processed || u !== unprocessed) stableSince = Date.now();
    [processed, unprocessed] = [p, u];
    if (u === 0 && (p === sent.length || Date.now() - stableSince > 10000)) break;
  }
  const waited = Math.round((Date.now() - waitStart) / 1000);
  const sentSet = new Set(sent);
  let stored = 0;
  for (const txn of await AppserviceTransactionModel.find({}).select({ eventsJson: 1 }).lean()) {
    for (const e of JSON.parse(txn.eventsJson) as Array<{ event_id?: string }>) if (e.event_id && sentSet.has(e.event_id)) stored++;
  }
  if (stored < sent.length) problems.push(`${sent.length - stored} sent events never reached the appservice's transaction store (lost)`);
  if (stored > sent.length) problems.push(`${stored - sent.length} extra copies of sent events in stored transactions`);
  if (processed !== sent.length) problems.push(`${sent.length - processed} sent events not processed after waiting ${waited} s (${unprocessed} transactions still unprocessed)`);

  // The message index (appservice/domain/messageIndex.ts): every sent message in it once, and
  // nothing else. An empty index is a failure, not a skipped check.
  const indexed = await IndexedMessageModel.countDocuments({ roomId: { $in: roomIds }, msgtype: 'm.text' });
  let indexedSent = 0;
  await inLanes(sent, 16, async (id) => {
    if (await IndexedMessageModel.exists({ _id: id })) indexedSent++;
  });
  if (indexed === 0) problems.push('the message index was not fed: no entry for any of the sent messages');
  else if (indexedSent !== sent.length) problems.push(`${sent.length - indexedSent} sent events missing from indexed_messages`);
  if (indexed !== sent.length) problems.push(`indexed_messages holds ${indexed} entries for ${sent.length} sent messages`);
  // Rule 9 per event and administrator: exactly one notification each.
  const notifications = await AdminNotificationModel.countDocuments({ messageId: { $in: sent } });
  const notificationsInRooms = await AdminNotificationModel.countDocuments({ networkId: net.net });
  if (notifications !== sent.length) problems.push(`${notifications} admin notifications for ${sent.length} customer messages`);
  if (notificationsInRooms !== notifications) problems.push(`${notificationsInRooms - notifications} notifications for events nobody sent`);
  // Previews: each conversation shows its own last message.
  let stalePreviews = 0;
  for (const lane of lanes) {
    const conversation = await ConversationModel.findById(lane.chatId).lean();
    if (conversation?.lastMessage?.eventId !== lane.sent[lane.sent.length - 1]) stalePreviews++;
  }
  if (stalePreviews) problems.push(`${stalePreviews} conversations do not preview their last message`);
  // Synapse itself holds each message once (no client-side duplicate sends).
  let onSynapse = 0;
  for (const lane of lanes) {
    let from: string | undefined;
    for (;;) {
      const page = await b.matrix.messages(lane.roomId, net.customerUserId(Object.keys(customers)[lanes.indexOf(lane)]!), { from, limit: 500, dir: 'b', filter: { types: ['m.room.message'] } });
      onSynapse += page.chunk.filter((e) => typeof e.content?.body === 'string' && (e.content.body as string).startsWith('r1 ')).length;
      if (!page.end || page.chunk.length === 0) break;
      from = page.end;
    }
  }
  if (onSynapse !== MESSAGES) problems.push(`Synapse holds ${onSynapse} messages for ${MESSAGES} sends`);
  return {
    id: 'R1',
    title: 'appservice SIGKILLed during 1,000 Matrix-client sends',
    counts: { sent: sent.length, kills, onSynapse, stored, processed, waitedSeconds: waited, indexed, notifications, stalePreviews },
    problems,
  };
}
