import { ChatsDisabledError, NotFoundError } from '../errors';
import { decodeCursor, encodeCursor } from './pageCursor';
import { customerFacts, isHiddenFrom, isListedByVisibility } from './chatRules';
import { directKey } from './conversationService';
import { ConversationModel, CustomerModel, FeedPostModel, NetworkModel, type CustomerDoc } from './models';

/**
 * Customer lists read page by page in display-name order: the Community page (rules 3 and 5 from
 * chatRules.ts decide who is listed) and the administrators' customer search. Pages are range
 * queries on the (networkId, searchName, customerId) index after the cursor, never skip/offset, so
 * page N costs the same as page 1 in a network of 100k customers.
 */

export interface NamePage<T> {
  items: T[];
  nextCursor: string | null;
}

type Customer = CustomerDoc & { _id: unknown };

/** Candidates fetched per round while filtering hidden people out of a Community page. */
const ROUNDS = 5;

export async function communityPage(
  networkId: string,
  viewerId: string,
  opts: { q?: string; locationId?: string; cursor?: string; limit: number },
): Promise<NamePage<Customer>> {
  const network = await NetworkModel.findById(networkId).lean();
  if (!network) throw new NotFoundError('network');
  if (!network.chatsEnabled) throw new ChatsDisabledError();
  const viewer = await CustomerModel.findOne({ networkId, customerId: viewerId }).lean();
  const visibility = network.communityVisibility;
  const empty = { items: [], nextCursor: null };
  if (!viewer || viewer.status !== 'active' || visibility === 'administrators') return empty;

  const filter: Record<string, unknown> = { networkId, kind: 'member', status: 'active', customerId: { $ne: viewerId } };
  const locations: Record<string, unknown>[] = [];
  if (visibility === 'location_members') locations.push({ locationIds: { $in: viewer.locationIds } });
  if (opts.locationId) locations.push({ locationIds: opts.locationId });
  if (locations.length > 0) filter.$and = locations;

  const items: Customer[] = [];
  let cursor = opts.cursor;
  for (let round = 0; round < ROUNDS && items.length < opts.limit; round++) {
    const batch = await rangePage(filter, { q: opts.q, cursor, limit: opts.limit - items.length });
    const visible = await filterVisible(networkId, viewer, visibility, batch.items);
    items.push(...visible);
    cursor = batch.nextCursor ?? undefined;
    if (!batch.nextCursor) return { items, nextCursor: null };
  }
  return { items, nextCursor: cursor ?? null };
}

/** Every customer of the network (members and non-members) by name, for an administrator's "New chat". */
export async function customerSearchPage(
  networkId: string,
  opts: { q?: string; cursor?: string; limit: number },
): Promise<NamePage<Customer>> {
  return rangePage({ networkId, status: 'active' }, opts);
}

async function rangePage(
  filter: Record<string, unknown>,
  opts: { q?: string; cursor?: string; limit: number },
): Promise<NamePage<Customer>> {
  const conditions: Record<string, unknown>[] = [filter];
  const q = opts.q?.trim().toLowerCase();
  // A name matches when one of its words starts with q ("bau" finds "Bob Bauer").
  if (q) conditions.push({ searchName: { $regex: `(^|\\s)${escapeRegex(q)}` } });
  if (opts.cursor) {
    const [name, id] = decodeCursor(opts.cursor, ['string', 'string'] as const);
    conditions.push({ $or: [{ searchName: { $gt: name } }, { searchName: name, customerId: { $gt: id } }] });
  }
  const query = conditions.length === 1 ? filter : { $and: conditions };
  const docs = await CustomerModel.find(query)
    .sort({ searchName: 1, customerId: 1 })
    .limit(opts.limit + 1)
    .lean<Customer[]>();
  const items = docs.slice(0, opts.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: docs.length > opts.limit && last ? encodeCursor([last.searchName, last.customerId]) : null };
}

/** Rules 3 and 5 through chatRules: the queries above only narrow the candidates. */
async function filterVisible(
  networkId: string,
  viewer: Customer,
  visibility: 'administrators' | 'location_members' | 'network_members',
  candidates: Customer[],
): Promise<Customer[]> {
  const hidden = candidates.filter((c) => c.hideNameOnBookings).map((c) => c.customerId);
  const [posted, startedChats] = hidden.length
    ? await Promise.all([
        FeedPostModel.distinct('authorId', { networkId, authorId: { $in: hidden } }),
        ConversationModel.find({ key: { $in: hidden.map((id) => directKey(networkId, id, viewer.customerId)) } })
          .select({ startedBy: 1 })
          .lean(),
      ])
    : [[], []];
  const postedSet = new Set(posted.map(String));
  const startedSet = new Set(startedChats.map((c) => c.startedBy));
  const viewerFacts = customerFacts(viewer);
  return candidates.filter((c) => {
    const candidateFacts = customerFacts(c);
    return (
      isListedByVisibility(visibility, viewerFacts, candidateFacts) &&
      !isHiddenFrom(candidateFacts, {
        recipientHasPostedOnFeed: postedSet.has(c.customerId),
        recipientStartedChatWithRequester: startedSet.has(c.customerId),
      })
    );
  });
}


function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
