import { randomUUID } from 'node:crypto';
import { supportKey } from '../appservice';
import { virtualUserId } from '../appservice/matrix/virtualUsers';
import type { BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork } from './support/networkFixture';
import { percentile, timed } from './support/percentiles';
import { queryPlan } from './support/queryPlan';
import { describeTally, tallyOperations } from './support/operationTally';
import type { BenchScale } from './support/scale';
import { ConversationModel, CustomerModel, conversationIdForKey, customerDocId, recordDirectoryChange, SupportInboxHeadModel } from '../store';

const PAGE = 20;
const INSERT_BATCH = 1000;
/** Community pages measured right after a directory change (each catches the name index up). */
const CHANGE_SAMPLES = 5;
/** Conversations on the inbox's first page that are real Matrix rooms with an unread message. */
const LIVE_CONVERSATIONS = PAGE;
const FIRST_NAMES = ['Ana', 'Ben', 'Chloé', 'Dmitri', 'Eva', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Mia', 'Noah', 'Olga', 'Pavel'];
const LAST_NAMES = ['Andersen', 'Bauer', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Horvat', 'Ivanova', 'Jensen', 'Kowalski', 'Larsen', 'Moreau', 'Novak'];

/**
 * B4 inbox and directory: the first page of GET /v1/networks/:nid/chats (an administrator's support
 * inbox over many support conversations) and of GET /v1/community (a member browsing a network of
 * many customers), against the bare MongoDB query each needs, interleaved.
 *
 * Data: customers and support conversations are bulk-inserted through the mongoose models (setup,
 * not measured). The inbox's newest page is made of real conversations opened through the portal,
 * each with an unread customer message, so the page pays for its unread counts as in production.
 */
export async function inboxAndDirectory(b: BenchStack, scale: BenchScale): Promise<BenchResult[]> {
  const live = Object.fromEntries(Array.from({ length: LIVE_CONVERSATIONS }, (_, i) => [`live-${i}`, `Live Customer ${i}`]));
  const net = await createNetwork(b, { customers: { viewer: 'Vera Viewer', ...live }, admins: { boss: 'Bea Boss' } });
  const seedStart = Date.now();
  await seedCustomers(b, net.net, scale.b4Customers);
  await seedSupportConversations(b, net.net, scale.b4SupportConversations);
  const admin = net.admin('boss');
  for (const cid of Object.keys(live)) {
    const chat = await b.ok('POST', `/v1/networks/${net.net}/chats`, admin, { customerId: cid });
    await b.ok('POST', `/v1/chats/${chat.id}/messages`, net.customer(cid), { txnId: `b4-${randomUUID()}`, body: `hello from ${cid}` });
  }
  const seedSeconds = (Date.now() - seedStart) / 1000;
  const [customers, supportChats] = await Promise.all([
    CustomerModel.countDocuments({ networkId: net.net }),
    ConversationModel.countDocuments({ networkId: net.net, kind: 'support' }),
  ]);

  const inboxRoute = async () => {
    const { ms, value } = await timed(() => b.api('GET', `/v1/networks/${net.net}/chats?limit=${PAGE}`, admin));
    if (value.status !== 200 || value.body.chats.length !== PAGE) throw new Error(`inbox answered ${value.status}: ${JSON.stringify(value.body).slice(0, 300)}`);
    return ms;
  };
  const inboxBare = async () =>
    (await timed(() => ConversationModel.find({ networkId: net.net, kind: 'support' }).sort({ lastActivityAt: -1, _id: -1 }).limit(PAGE + 1).lean())).ms;
  const viewer = net.customer('viewer');
  const communityRoute = async () => {
    const { ms, value } = await timed(() => b.api('GET', `/v1/community?limit=${PAGE}`, viewer));
    if (value.status !== 200 || value.body.people.length !== PAGE) throw new Error(`community answered ${value.status}: ${JSON.stringify(value.body).slice(0, 300)}`);
    return ms;
  };
  const communityBare = async () =>
    (
      await timed(() =>
        CustomerModel.find({ networkId: net.net, kind: 'member', status: 'active', customerId: { $ne: 'viewer' } })
          .sort({ searchName: 1, customerId: 1 })
          .limit(PAGE + 1)
          .lean(),
      )
    ).ms;

  const inbox = await interleave(scale.b4Requests, scale.b4BudgetMs, inboxRoute, inboxBare);
  const community = await interleave(scale.b4Requests, scale.b4BudgetMs, communityRoute, communityBare);
  // What one page costs in MongoDB operations (the services run in this process).
  const TALLIED = 10;
  const inboxTally = tallyOperations();
  for (let i = 0; i < TALLIED; i++) await inboxRoute();
  const inboxOps = describeTally(inboxTally.stop(), TALLIED, 'page');
  const communityTally = tallyOperations();
  for (let i = 0; i < TALLIED; i++) await communityRoute();
  const communityOps = describeTally(communityTally.stop(), TALLIED, 'page');
  // The price of a change: a customer renamed (as host sync would), then the first page, which
  // brings the network's name index up to date (directoryCache.ts).
  const afterChange: number[] = [];
  for (let i = 0; i < CHANGE_SAMPLES; i++) {
    const name = `Renamed Customer ${i}`;
    // Written directly (as bulk seeding is), so it records its directory change as every customer write does.
    await CustomerModel.updateOne({ _id: customerDocId(net.net, `seed-${i}`) }, { $set: { displayName: name, searchName: name.toLowerCase() } });
    await recordDirectoryChange(net.net, [`seed-${i}`]);
    afterChange.push(await communityRoute());
  }
  const setup = `seeded in ${seedSeconds.toFixed(0)} s`;
  // How the database runs each bare query: whether filter, sort and limit reach an index.
  const inboxPlan = await queryPlan('conversations', { networkId: net.net, kind: 'support' }, { lastActivityAt: -1, _id: -1 });
  const communityPlan = await queryPlan('customers', { networkId: net.net, kind: 'member', status: 'active', customerId: { $ne: 'viewer' } }, { searchName: 1, customerId: 1 });
  return [
    result({ id: 'B4', metric: `inbox first page p50 (${supportChats} support chats)`, unit: 'ms', value: percentile(inbox.route, 50), baseline: percentile(inbox.bare, 50), target: null, targetOn: 'value', better: 'lower', note: `${inbox.route.length} interleaved pairs; page of ${PAGE}, the ${LIVE_CONVERSATIONS} newest are live rooms with an unread message; ${setup}; ${inboxOps}; bare query plan: ${inboxPlan}` }),
    result({ id: 'B4', metric: `inbox first page p99 (${supportChats} support chats)`, unit: 'ms', value: percentile(inbox.route, 99), baseline: percentile(inbox.bare, 99), target: 50, targetOn: 'value', better: 'lower' }),
    result({ id: 'B4', metric: `community first page p50 (${customers} customers)`, unit: 'ms', value: percentile(community.route, 50), baseline: percentile(community.bare, 50), target: null, targetOn: 'value', better: 'lower', note: `${community.route.length} interleaved pairs; page of ${PAGE}; visibility network_members, 5% of customers hide their name; ${communityOps}; bare query plan: ${communityPlan}` }),
    result({ id: 'B4', metric: `community first page p99 (${customers} customers)`, unit: 'ms', value: percentile(community.route, 99), baseline: percentile(community.bare, 99), target: 100, targetOn: 'value', better: 'lower' }),
    result({ id: 'B4', metric: `community first page right after a customer changed, p50 (${customers} customers)`, unit: 'ms', value: percentile(afterChange, 50), baseline: percentile(community.bare, 50), target: null, targetOn: 'value', better: 'lower', note: `${CHANGE_SAMPLES} samples, each after one customer was renamed: the name index catches up on the change (directoryCache.ts); max ${Math.max(...afterChange).toFixed(0)} ms` }),
  ];
}

/** n interleaved pairs, or fewer (at least 10) when the time budget runs out first. */
async function interleave(n: number, budgetMs: number, route: () => Promise<number>, bare: () => Promise<number>) {
  const out = { route: [] as number[], bare: [] as number[] };
  const warmup = 5;
  const deadline = Date.now() + budgetMs;
  for (let i = 0; i < n + warmup; i++) {
    if (out.route.length >= 10 && Date.now() > deadline) break;
    const routeFirst = i % 2 === 0;
    const a = await (routeFirst ? route() : bare());
    const c = await (routeFirst ? bare() : route());
    if (i < warmup) continue;
    out.route.push(routeFirst ? a : c);
    out.bare.push(routeFirst ? c : a);
  }
  return out;
}

async function seedCustomers(b: BenchStack, networkId: string, count: number): Promise<void> {
  for (let from = 0; from < count; from += INSERT_BATCH) {
    const docs = [];
    for (let i = from; i < Math.min(count, from + INSERT_BATCH); i++) {
      const displayName = `${FIRST_NAMES[i % FIRST_NAMES.length]} ${LAST_NAMES[(i * 7) % LAST_NAMES.length]} ${i}`;
      const customerId = `seed-${i}`;
      docs.push({
        _id: customerDocId(networkId, customerId),
        networkId,
        customerId,
        kind: i % 10 === 9 ? 'nonmember' : 'member',
        displayName,
        searchName: displayName.toLowerCase(),
        locationIds: [`loc-${i % 5}`],
        hideNameOnBookings: i % 20 === 0,
        status: 'active',
        matrixUserId: virtualUserId({ kind: 'customer', networkId, id: customerId }, b.domain),
        version: 1,
        provisionedVersion: 1,
      });
    }
    await CustomerModel.insertMany(docs, { ordered: false, lean: true });
  }
  await recordDirectoryChange(networkId, null);
}

async function seedSupportConversations(b: BenchStack, networkId: string, count: number): Promise<void> {
  const now = Date.now();
  for (let from = 0; from < count; from += INSERT_BATCH) {
    const docs = [];
    for (let i = from; i < Math.min(count, from + INSERT_BATCH); i++) {
      const customerId = `seed-${i}`;
      // Older than the live conversations, spread over 30 days.
      const at = new Date(now - 3600_000 - ((i * 2654435761) % (30 * 86400_000)));
      const key = supportKey(networkId, customerId);
      docs.push({
        _id: conversationIdForKey(key),
        networkId,
        kind: 'support',
        key,
        customerIds: [customerId],
        startedBy: customerId,
        lastActivityAt: at,
        lastMessage: { eventId: `$seed${i}`, senderId: customerId, body: `question ${i}`, at },
      });
    }
    await ConversationModel.insertMany(docs, { ordered: false, lean: true });
  }
  // Written behind the service's back: the inbox head is rebuilt from the conversations on next use.
  await SupportInboxHeadModel.deleteOne({ _id: networkId });
}

