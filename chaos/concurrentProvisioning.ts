import { Queue, type Job } from 'bullmq';
import { virtualUserId } from '../appservice/matrix/virtualUsers';
import { inLanes, type BenchStack } from '../bench/support/benchStack';
import { runId } from '../bench/support/networkFixture';
import { createWorkerConnection, PROVISIONING_QUEUE, type ProvisioningJobData } from '../provisioning';
import { AdministratorModel, ConversationModel, CustomerModel, LocationModel, NetworkModel, adminDocId, customerDocId } from '../store';
import { pendingWork } from './systemState';
import type { ScenarioResult } from './scenarioResult';

const CUSTOMERS = 16;
const ADMINS = 4;
/** Customers who open a support chat while the rest of the network is still being provisioned. */
const SUPPORT_OPENERS = 4;
/** Host-platform requests in flight at once (every person of the network is synced together). */
const SYNC_CONCURRENCY = CUSTOMERS + ADMINS + 1;
const SETTLE_TIMEOUT_MS = 240000;

/**
 * R10 (called R7 until 2026-12-01): a new network's people synced all at once, as a host platform syncing a network does: 16
 * customers (members and non-members, some hiding their name) and 3 administrators PUT
 * concurrently, while 4 of the customers open support chats and a second location is added
 * half-way; a 4th administrator arrives right after, while the jobs still run.
 * The provisioning jobs of one network then run side by side on the worker (8 at a time), together
 * with the whole-network space placement the new location queues: they race to create the
 * network's spaces, to place the same person (a customer's own job and the network placement), to
 * join administrators to support rooms being created, and for FerretDB's writes.
 *
 * After the system is quiet: no job failed, everyone is provisioned with their name on Synapse, one
 * space per alias, every person in exactly the spaces the placement rules give them, and every
 * administrator joined to every support room (rule 2). Retried jobs are counted with their reasons.
 */
export async function concurrentProvisioning(b: BenchStack): Promise<ScenarioResult> {
  const net = runId('r7');
  const service = b.token('service', 'host-platform', net);
  const tag = net.slice(-6);
  await b.ok('PUT', `/v1/networks/${net}`, service, { name: `Concurrent ${tag}`, communityVisibility: 'network_members' });
  const locations = ['loc-a', 'loc-b'];
  await b.ok('PUT', `/v1/networks/${net}/locations/loc-a`, service, { name: `Concurrent loc-a ${tag}` });

  const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({
    id: `c${i}`,
    kind: i % 4 === 3 ? ('nonmember' as const) : ('member' as const),
    displayName: `Concurrent Customer ${i} ${tag}`,
    locationIds: i % 3 === 0 ? locations : [locations[i % 2]!],
    hideNameOnBookings: i % 5 === 4,
  }));
  // The last administrator arrives once the support chats exist: only their own job can join them there.
  const admins = Array.from({ length: ADMINS }, (_, i) => ({ id: i === ADMINS - 1 ? `a${i}-late` : `a${i}`, displayName: `Concurrent Admin ${i} ${tag}` }));
  const lateAdmin = admins[ADMINS - 1]!;
  const openers = customers.filter((c) => c.kind === 'member').slice(0, SUPPORT_OPENERS);

  const refused: string[] = [];
  const supportChats: Array<{ customerId: string; chatId: string }> = [];
  const started = Date.now();
  // The second location arrives while the people are being provisioned: its whole-network
  // placement job runs beside their own jobs and places the same people.
  let answered = 0;
  let halfAnswered: () => void = () => undefined;
  const half = new Promise<void>((resolve) => (halfAnswered = resolve));
  const work: Array<() => Promise<void>> = [
    async () => {
      await half;
      const res = await b.api('PUT', `/v1/networks/${net}/locations/loc-b`, service, { name: `Concurrent loc-b ${tag}` });
      if (res.status >= 300) refused.push(`PUT location loc-b → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    },
    ...customers.map((c) => async () => {
      const res = await b.api('PUT', `/v1/networks/${net}/customers/${c.id}`, service, { kind: c.kind, displayName: c.displayName, locationIds: c.locationIds, hideNameOnBookings: c.hideNameOnBookings, status: 'active' });
      if (++answered === CUSTOMERS / 2) halfAnswered();
      if (res.status >= 300) return void refused.push(`PUT customer ${c.id} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      if (!openers.includes(c)) return;
      const chat = await b.api('POST', '/v1/chats/support', b.token('customer', c.id, net));
      if (chat.status >= 300) return void refused.push(`POST /v1/chats/support as ${c.id} → ${chat.status} ${JSON.stringify(chat.body).slice(0, 200)}`);
      supportChats.push({ customerId: c.id, chatId: chat.body.id });
    }),
    ...admins.filter((a) => a !== lateAdmin).map((a) => async () => {
      const res = await b.api('PUT', `/v1/networks/${net}/admins/${a.id}`, service, { displayName: a.displayName });
      if (res.status >= 300) refused.push(`PUT admin ${a.id} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    }),
  ];
  await inLanes(work, SYNC_CONCURRENCY, (run) => run());
  const late = await b.api('PUT', `/v1/networks/${net}/admins/${lateAdmin.id}`, service, { displayName: lateAdmin.displayName });
  if (late.status >= 300) refused.push(`PUT admin ${lateAdmin.id} → ${late.status} ${JSON.stringify(late.body).slice(0, 200)}`);

  // Quiet: nothing of this (or anything else) left in the queue, every pushed transaction applied.
  let settledMs = 0;
  for (;;) {
    const pending = await pendingWork(b);
    if (pending.jobs === 0 && pending.transactions === 0) break;
    if (Date.now() - started > SETTLE_TIMEOUT_MS) {
      refused.push(`not settled after ${SETTLE_TIMEOUT_MS / 1000} s: ${pending.jobs} unfinished jobs, ${pending.transactions} unprocessed transactions`);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  settledMs = Date.now() - started;

  const problems = [...refused];
  const jobs = await jobsOfNetwork(b, net);
  const failed = jobs.filter((j) => j.state === 'failed');
  const retried = jobs.filter((j) => j.state !== 'failed' && j.attemptsMade > 1);
  if (failed.length) problems.push(`${failed.length} jobs failed: ${failed.slice(0, 4).map((j) => `${j.id} (${j.reason})`).join(' | ')}`);
  if (jobs.length === 0) problems.push('no provisioning job of the network was found: nothing was tested');

  // Everyone provisioned, with their name on Synapse.
  let provisioned = 0;
  let names = 0;
  for (const c of customers) {
    const doc = await CustomerModel.findById(customerDocId(net, c.id)).lean();
    if (doc && (doc.provisionedVersion ?? 0) >= (doc.version ?? 1)) provisioned++;
    const profile = await b.matrix.getProfile(virtualUserId({ kind: 'customer', networkId: net, id: c.id }, b.domain));
    if (profile?.displayname === c.displayName) names++;
  }
  for (const a of admins) {
    const doc = await AdministratorModel.findById(adminDocId(net, a.id)).lean();
    if (doc && (doc.provisionedVersion ?? 0) >= (doc.version ?? 1)) provisioned++;
    const profile = await b.matrix.getProfile(virtualUserId({ kind: 'admin', networkId: net, id: a.id }, b.domain));
    if (profile?.displayname === a.displayName) names++;
  }
  if (provisioned !== CUSTOMERS + ADMINS) problems.push(`${CUSTOMERS + ADMINS - provisioned} of ${CUSTOMERS + ADMINS} people not provisioned`);
  if (names !== CUSTOMERS + ADMINS) problems.push(`${CUSTOMERS + ADMINS - names} people lack their display name on Synapse`);

  // One space per network and location: the stored room is the one its alias names.
  const network = await NetworkModel.findById(net).lean();
  const locationDocs = await LocationModel.find({ networkId: net }).lean();
  const spaceOf = new Map<string, string>();
  if (!network?.spaceRoomId) problems.push('the network has no space');
  else spaceOf.set('network', network.spaceRoomId);
  for (const l of locationDocs) {
    if (!l.spaceRoomId) problems.push(`location ${l.locationId} has no space`);
    else spaceOf.set(l.locationId, l.spaceRoomId);
  }
  const spaces = [...spaceOf.values()];
  if (new Set(spaces).size !== spaces.length) problems.push(`two places share one space: ${JSON.stringify(Object.fromEntries(spaceOf))}`);

  // Each person in exactly the spaces the rules give them (communitySpaces.ts, restated here).
  let wrongPlacements = 0;
  const placementProblems: string[] = [];
  const membership = async (room: string, userId: string) => (await b.matrix.getState<{ membership?: string }>(room, 'm.room.member', userId))?.membership ?? 'none';
  for (const c of customers) {
    const listed = c.kind === 'member' && !c.hideNameOnBookings;
    const wanted = new Set(listed ? ['network', ...c.locationIds] : []);
    const userId = virtualUserId({ kind: 'customer', networkId: net, id: c.id }, b.domain);
    for (const [place, room] of spaceOf) {
      const m = await membership(room, userId);
      if ((m === 'join') !== wanted.has(place)) {
        wrongPlacements++;
        placementProblems.push(`${c.id} is "${m}" in the ${place} space`);
      }
    }
  }
  for (const a of admins) {
    const userId = virtualUserId({ kind: 'admin', networkId: net, id: a.id }, b.domain);
    for (const [place, room] of spaceOf) {
      const m = await membership(room, userId);
      if (m !== 'join') {
        wrongPlacements++;
        placementProblems.push(`${a.id} is "${m}" in the ${place} space`);
      }
    }
  }
  if (wrongPlacements) problems.push(`${wrongPlacements} wrong space memberships: ${placementProblems.slice(0, 5).join(', ')}`);

  // Rule 2: every administrator in every support room, whoever was provisioned first.
  let missingAdmins = 0;
  const supportProblems: string[] = [];
  for (const chat of supportChats) {
    const conversation = await ConversationModel.findById(chat.chatId).lean();
    if (!conversation?.roomId) {
      supportProblems.push(`support chat of ${chat.customerId} has no room`);
      missingAdmins += ADMINS;
      continue;
    }
    for (const a of admins) {
      const m = await membership(conversation.roomId, virtualUserId({ kind: 'admin', networkId: net, id: a.id }, b.domain));
      if (m !== 'join') {
        missingAdmins++;
        supportProblems.push(`${a.id} is "${m}" in the support room of ${chat.customerId}`);
      }
    }
  }
  if (supportChats.length !== openers.length) problems.push(`${supportChats.length} of ${openers.length} support chats opened`);
  if (missingAdmins) problems.push(`${missingAdmins} administrator memberships missing from support rooms: ${supportProblems.slice(0, 5).join(', ')}`);

  const retryReasons = [...new Set(retried.map((j) => j.reason))];
  return {
    id: 'R10',
    title: "one network's people provisioned concurrently",
    counts: {
      customers: CUSTOMERS,
      admins: ADMINS,
      supportChats: supportChats.length,
      jobs: jobs.length,
      failedJobs: failed.length,
      retriedJobs: retried.length,
      ...(retryReasons.length ? { retryReasons: `"${retryReasons.slice(0, 3).join('" / "')}"` } : {}),
      provisioned,
      spaces: spaces.length,
      wrongPlacements,
      missingAdmins,
      settledSeconds: Math.round(settledMs / 1000),
    },
    problems,
  };
}

/** Every job of the network still kept by the queue, with its state, attempts and last failure. */
async function jobsOfNetwork(b: BenchStack, networkId: string): Promise<Array<{ id: string; state: string; attemptsMade: number; reason: string }>> {
  const connection = createWorkerConnection(b.config.redisUrl);
  const queue = new Queue<ProvisioningJobData>(PROVISIONING_QUEUE, { connection });
  try {
    const out: Array<{ id: string; state: string; attemptsMade: number; reason: string }> = [];
    for (const state of ['completed', 'failed'] as const) {
      const jobs: Job<ProvisioningJobData>[] = await queue.getJobs([state], 0, -1);
      for (const job of jobs) {
        if (job?.data?.networkId !== networkId) continue;
        const reason = (job.failedReason || job.stacktrace?.[0]?.split('\n')[0] || '').slice(0, 160);
        out.push({ id: job.id ?? '?', state, attemptsMade: job.attemptsMade, reason });
      }
    }
    return out;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
