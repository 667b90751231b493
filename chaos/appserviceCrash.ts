import { randomUUID } from 'node:crypto';
import * as sdk from 'matrix-js-sdk';
import { AdminNotificationModel } from '../appservice/domain/adminNotifications';
import { IndexedMessageModel } from '../appservice/domain/messageIndex';
import { ConversationModel, ProcessedEventModel } from '../appservice/domain/models';
import { eventually, inLanes, type BenchStack } from '../bench/support/benchStack';
import { createNetwork, matrixClientFor } from '../bench/support/networkFixture';
import type { ServiceProcess } from '../bench/support/serviceProcess';
import type { ScenarioResult } from './scenarioResult';

const MESSAGES = 1000;
const CLIENTS = 4;
/** The appservice is killed when this many messages are sent, and restarted shortly after. */
const KILL_AT = [150, 450, 750];
const DOWN_MS = 1500;

/**
 * R1: the appservice (its own process) is SIGKILLed three times while four Matrix clients
 * (matrix-js-sdk, logged in through the portal's matrix-session) send 1,000 messages into support
 * conversations; it is restarted each time. Afterwards every sent event must be in the index exactly
 * once: the processed-event record, the message index (indexed_messages, when the appservice feeds
 * it) and the administrators' notifications, with nothing extra and each preview the room's last
 * message.
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
  const processed = await eventually(
    'every sent event to be processed after the restarts',
    async () => {
      const n = await ProcessedEventModel.countDocuments({ _id: { $in: sent } });
      return n >= sent.length ? n : null;
    },
    180000,
    500,
  ).catch(async () => ProcessedEventModel.countDocuments({ _id: { $in: sent } }));
  if (processed !== sent.length) problems.push(`${sent.length - processed} sent events never processed (lost)`);

  // The message index, when the appservice feeds it (appservice/domain/messageIndex.ts).
  let indexed: number | string = 'not fed';
  {
    const inRooms = await IndexedMessageModel.countDocuments({ roomId: { $in: roomIds }, msgtype: 'm.text' });
    if (inRooms > 0) {
      const distinctSent = await IndexedMessageModel.countDocuments({ _id: { $in: sent } });
      indexed = inRooms;
      if (distinctSent !== sent.length) problems.push(`${sent.length - distinctSent} sent events missing from indexed_messages`);
      if (inRooms !== sent.length) problems.push(`indexed_messages holds ${inRooms} entries for ${sent.length} sent messages`);
    }
  }
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
    counts: { sent: sent.length, kills, onSynapse, processed, indexed, notifications, stalePreviews },
    problems,
  };
}
