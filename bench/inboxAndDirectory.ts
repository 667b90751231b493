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
/** Samples of each collection-wide query, for scale in the notes. */
const SCAN_SAMPLES = 3;
/** Conversations on the inbox's first page that are real Matrix rooms with an unread message. */
const LIVE_CONVERSATIONS = PAGE;
const FIRST_NAMES = ['Ana', 'Ben', 'Chloé', 'Dmitri', 'Eva', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Mia', 'Noah', 'Olga', 'Pavel'];
const LAST_NAMES = ['Andersen', 'Bauer', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Horvat', 'Ivanova', 'Jensen', 'Kowalski', 'Larsen', 'Moreau', 'Novak'];

/**
 * B4 inbox and directory: the first page of GET /v1/networks/:nid/chats (an administrator's support
 * inbox over many support conversations) and of GET /v1/community (a member browsing a network of
 * many customers), against absolute targets. There is no ratio: the only direct query of the same
 * list is a sorted query over the whole collection, which does less (no unread counts, no names,
 * no privacy) and which FerretDB cannot serve from an index; its time is given in the note for
 * scale only. Each answer is checked to be the right page (the newest conversations with their
 * unread counts and names; the first names in order with the privacy rules applied), and the share
 * of right answers is a figure of its own with a target of 100 %: a fast wrong answer is not fast.
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
  const liveChats = new Set<string>();
  for (const cid of Object.keys(live)) {
    const chat = await b.ok('POST', `/v1/networks/${net.net}/chats`, admin, { customerId: cid });
    liveChats.add(chat.id);
    await b.ok('POST', `/v1/chats/${chat.id}/messages`, net.customer(cid), { txnId: `b4-${randomUUID()}`, body: `hello from ${cid}` });
  }
  const seedSeconds = (Date.now() - seedStart) / 1000;
  const [customers, supportChats] = await Promise.all([
    CustomerModel.countDocuments({ networkId: net.net }),
    ConversationModel.countDocuments({ networkId: net.net, kind: 'support' }),
  ]);

  const inboxRoute = async () => {
    const { ms, value } = await timed(() => b.api('GET', `/v1/networks/${net.net}/chats?limit=${PAGE}`, admin));
    if (value.status !== 200) throw new Error(`inbox answered ${value.status}: ${JSON.stringify(value.body).slice(0, 300)}`);
    check.inbox.note(inboxPageProblems(value.body.chats, liveChats));
    return ms;
  };
  const viewer = net.customer('viewer');
  const check = { inbox: new AnswerCheck(), community: new AnswerCheck() };
  // The Community page, derived here from what was seeded: active members other than the viewer,
  // without those hiding their name (no Feed posts), by (searchName, customerId).
  let expectedCommunity = expectedCommunityPage(scale.b4Customers, live);
  const communityRoute = async () => {
    const { ms, value } = await timed(() => b.api('GET', `/v1/community?limit=${PAGE}`, viewer));
    if (value.status !== 200) throw new Error(`community answered ${value.status}: ${JSON.stringify(value.body).slice(0, 300)}`);
    const got = (value.body.people as Array<{ customerId: string; displayName: string }>).map((p) => `${p.customerId}:${p.displayName}`);
    check.community.note(got.join('|') === expectedCommunity.join('|') ? null : `got ${got.slice(0, 3).join(', ')}…, expected ${expectedCommunity.slice(0, 3).join(', ')}…`);
    return ms;
  };
  // For scale only (not a baseline): the collection-wide sorted queries FerretDB answers by reading everything.
  const inboxScan = async () =>
    (await timed(() => ConversationModel.find({ networkId: net.net, kind: 'support' }).sort({ lastActivityAt: -1, _id: -1 }).limit(PAGE + 1).lean())).ms;
  const communityScan = async () =>
    (
      await timed(() =>
        CustomerModel.find({ networkId: net.net, kind: 'member', status: 'active', customerId: { $ne: 'viewer' } })
          .sort({ searchName: 1, customerId: 1 })
          .limit(PAGE + 1)
          .lean(),
      )
    ).ms;

  const inbox = await measure(scale.b4Requests, scale.b4BudgetMs, inboxRoute);
  const community = await measure(scale.b4Requests, scale.b4BudgetMs, communityRoute);
  const scans = { inbox: [] as number[], community: [] as number[] };
  for (let i = 0; i < SCAN_SAMPLES; i++) {
    scans.inbox.push(await inboxScan());
    scans.community.push(await communityScan());
  }
  // What one page costs in MongoDB operations (the services run in this process).
  const TALLIED = 10;
  const inboxTally = tallyOperations();
  for (let i = 0; i < TALLIED; i++) await inboxRoute();
  const inboxOps = describeTally(inboxTally.stop(), TALLIED, 'page');
  const communityTally = tallyOperations();
  for (let i = 0; i < TALLIED; i++) await communityRoute();
  const communityOps = describeTally(communityTally.stop(), TALLIED, 'page');
  // The price of a change: a customer renamed (as host sync would) to a name that sorts first, then
  // the first page, which brings the network's name index up to date (directoryCache.ts) and must
  // show the new name.
  const afterChange: number[] = [];
  for (let i = 1; i <= CHANGE_SAMPLES; i++) {
    const name = renamed(i);
    // Written directly (as bulk seeding is), so it records its directory change as every customer write does.
    await CustomerModel.updateOne({ _id: customerDocId(net.net, `seed-${i}`) }, { $set: { displayName: name, searchName: name.toLowerCase() } });
    await recordDirectoryChange(net.net, [`seed-${i}`]);
    expectedCommunity = expectedCommunityPage(scale.b4Customers, live, i);
    afterChange.push(await communityRoute());
  }
  const setup = `seeded in ${seedSeconds.toFixed(0)} s`;
  // How the database runs each bare query: whether filter, sort and limit reach an index.
  const inboxPlan = await queryPlan('conversations', { networkId: net.net, kind: 'support' }, { lastActivityAt: -1, _id: -1 });
  const communityPlan = await queryPlan('customers', { networkId: net.net, kind: 'member', status: 'active', customerId: { $ne: 'viewer' } }, { searchName: 1, customerId: 1 });
  const scan = (xs: number[]) => `${percentile(xs, 50).toFixed(0)} ms`;
  return [
    check.inbox.result(`inbox first page: answers that were the right page (${supportChats} support chats)`, 'the 20 newest support chats (the live ones), each with its unread count and the customer\'s name'),
    check.community.result(`community first page: answers that were the right page (${customers} customers)`, 'the first 20 listed people in name order, derived from the seed (non-members and hidden names left out; renamed customers in place)'),
    result({ id: 'B4', metric: `inbox first page p50 (${supportChats} support chats)`, unit: 'ms', value: percentile(inbox, 50), baseline: null, target: null, targetOn: 'value', better: 'lower', note: `${inbox.length} requests, each answer checked (row above); page of ${PAGE}, the ${LIVE_CONVERSATIONS} newest are live rooms with an unread message; ${setup}; ${inboxOps}; for scale only, not a baseline: the sorted query over every support conversation takes ${scan(scans.inbox)} (p50 of ${SCAN_SAMPLES}; plan: ${inboxPlan})` }),
    result({ id: 'B4', metric: `inbox first page p99 (${supportChats} support chats)`, unit: 'ms', value: percentile(inbox, 99), baseline: null, target: 50, targetOn: 'value', better: 'lower' }),
    result({ id: 'B4', metric: `community first page p50 (${customers} customers)`, unit: 'ms', value: percentile(community, 50), baseline: null, target: null, targetOn: 'value', better: 'lower', note: `${community.length} requests, each answer checked against the page derived from the seed; page of ${PAGE}; visibility network_members, 5% of customers hide their name; ${communityOps}; for scale only, not a baseline: the sorted query over every customer takes ${scan(scans.community)} (p50 of ${SCAN_SAMPLES}; plan: ${communityPlan})` }),
    result({ id: 'B4', metric: `community first page p99 (${customers} customers)`, unit: 'ms', value: percentile(community, 99), baseline: null, target: 100, targetOn: 'value', better: 'lower' }),
    result({ id: 'B4', metric: `community first page right after a customer changed, p50 (${customers} customers)`, unit: 'ms', value: percentile(afterChange, 50), baseline: null, target: null, targetOn: 'value', better: 'lower', note: `${CHANGE_SAMPLES} samples, each after one more customer was renamed to a name on the first page, each answer checked (the renamed customers in place): the name index catches up on the change (directoryCache.ts); max ${Math.max(...afterChange).toFixed(0)} ms` }),
  ];
}

/** Answers checked against the right page: a fast wrong answer is counted as wrong, not as fast. */
class AnswerCheck {
  private total = 0;
  private wrong = 0;
  private example: string | null = null;

  note(problem: string | null): void {
    this.total++;
    if (!problem) return;
    this.wrong++;
    this.example ??= problem;
  }

  result(metric: string, rightPage: string): BenchResult {
    return result({
      id: 'B4',
      metric,
      unit: '%',
      value: this.total === 0 ? 0 : (100 * (this.total - this.wrong)) / this.total,
      baseline: null,
      target: 100,
      targetOn: 'value',
      better: 'higher',
      note: `${this.total - this.wrong} of ${this.total} answers were ${rightPage}${this.example ? `; first wrong one: ${this.example}` : ''}`,
    });
  }
}

/** What is wrong with an inbox first page, or null: the live conversations, each unread and named. */
function inboxPageProblems(chats: Array<{ id: string; unreadCount: number; participants: Array<{ displayName: string | null }> }>, live: ReadonlySet<string>): string | null {
  if (chats.length !== PAGE) return `${chats.length} chats`;
  const foreign = chats.filter((c) => !live.has(c.id));
  if (foreign.length) return `${foreign.length} chats are not the newest (e.g. ${foreign[0]!.id})`;
  const read = chats.filter((c) => !(c.unreadCount >= 1));
  if (read.length) return `${read.length} chats without their unread message`;
  const unnamed = chats.filter((c) => c.participants.some((p) => !p.displayName));
  if (unnamed.length) return `${unnamed.length} chats without the customer's name`;
  return null;
}

/**
 * The first Community page the viewer must see, from what was seeded (seedCustomers) and opened:
 * `customerId:displayName` of the first PAGE listed people. `renamed` seeded customers carry the
 * names the change samples gave them.
 */
function expectedCommunityPage(seeded: number, live: Record<string, string>, renamedUpTo = 0): string[] {
  const people: Array<{ customerId: string; displayName: string; searchName: string }> = [];
  for (let i = 0; i < seeded; i++) {
    if (i % 10 === 9 || i % 20 === 0) continue; // non-members are not listed; hidden names are not
    const displayName = i >= 1 && i <= renamedUpTo ? renamed(i) : seedName(i);
    people.push({ customerId: `seed-${i}`, displayName, searchName: displayName.toLowerCase() });
  }
  for (const [customerId, displayName] of Object.entries(live)) people.push({ customerId, displayName, searchName: displayName.toLowerCase() });
  people.sort((a, b) => (a.searchName !== b.searchName ? (a.searchName < b.searchName ? -1 : 1) : a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
  return people.slice(0, PAGE).map((p) => `${p.customerId}:${p.displayName}`);
}

/** Seeded customers 1… are renamed to this in turn: it sorts before every seeded name. */
function renamed(i: number): string {
  return `Aaron Renamed ${i}`;
}

function seedName(i: number): string {
  return `${FIRST_NAMES[i % FIRST_NAMES.length]} ${LAST_NAMES[(i * 7) % LAST_NAMES.length]} ${i}`;
}

/** n requests after a warm-up, or fewer (at least 10) when the time budget runs out first. */
async function measure(n: number, budgetMs: number, route: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  const warmup = 5;
  const deadline = Date.now() + budgetMs;
  for (let i = 0; i < n + warmup; i++) {
    if (out.length >= 10 && Date.now() > deadline) break;
    const ms = await route();
    if (i >= warmup) out.push(ms);
  }
  return out;
}

async function seedCustomers(b: BenchStack, networkId: string, count: number): Promise<void> {
  for (let from = 0; from < count; from += INSERT_BATCH) {
    const docs = [];
    for (let i = from; i < Math.min(count, from + INSERT_BATCH); i++) {
      const displayName = seedName(i);
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

