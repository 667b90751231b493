import { ChatsDisabledError, NotFoundError } from '../../runtime';
import { decodeCursor, encodeCursor } from './pageCursor';
import { customerFacts, isHiddenFrom, isListedByVisibility } from './chatRules';
import { directKey } from './conversation';
import { directoryOf, pageAfter, type DirectoryEntry } from './directoryCache';
import { ConversationModel, CustomerModel, FeedPostModel, NetworkModel, type CustomerDoc, conversationIdForKey, customerDocId, blockersOf } from '../../store';

/**
 * Customer lists read page by page in display-name order: the Community page (rules 3 and 5 from
 * chatRules.ts decide who is listed) and the administrators' customer search. Pages come from the
 * network's name index in memory (directoryCache.ts): a binary search to the cursor, never
 * skip/offset, so page N costs the same as page 1 in a network of 100k customers.
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
  const viewer = await CustomerModel.findById(customerDocId(networkId, viewerId)).lean<Customer>();
  const visibility = network.communityVisibility;
  const empty = { items: [], nextCursor: null };
  if (!viewer || viewer.status !== 'active' || visibility === 'administrators') return empty;

  const viewerLocations = new Set(viewer.locationIds);
  const candidate = (c: DirectoryEntry) =>
    c.kind === 'member' &&
    c.customerId !== viewerId &&
    (visibility !== 'location_members' || c.locationIds.some((l) => viewerLocations.has(l))) &&
    (!opts.locationId || c.locationIds.includes(opts.locationId));

  const entries = await directoryOf(networkId, network.directoryRevision ?? 0);
  const items: Customer[] = [];
  let cursor = opts.cursor;
  for (let round = 0; round < ROUNDS && items.length < opts.limit; round++) {
    const batch = namePage(entries, { q: opts.q, cursor, limit: opts.limit - items.length }, candidate);
    const visible = await filterVisible(networkId, viewer, visibility, batch.items);
    items.push(...visible);
    cursor = batch.nextCursor ?? undefined;
    if (!batch.nextCursor) return { items, nextCursor: null };
  }
  return { items, nextCursor: cursor ?? null };
}

/**
 * Every customer of the network (members and non-members) by name, for an administrator's "New
 * chat"; `directoryRevision` from the network document the caller has read.
 */
export async function customerSearchPage(
  networkId: string,
  directoryRevision: number,
  opts: { q?: string; cursor?: string; limit: number },
): Promise<NamePage<Customer>> {
  return namePage(await directoryOf(networkId, directoryRevision), opts, () => true);
}

/** A page of the in-memory name index (directoryCache.ts): after the cursor, matching q. */
function namePage(
  entries: readonly DirectoryEntry[],
  opts: { q?: string; cursor?: string; limit: number },
  accept: (c: DirectoryEntry) => boolean,
): NamePage<Customer> {
  const q = opts.q?.trim().toLowerCase();
  // A name matches when one of its words starts with q ("bau" finds "Bob Bauer").
  const words = q ? new RegExp(`(^|\\s)${escapeRegex(q)}`) : null;
  const after = opts.cursor ? decodeCursor(opts.cursor, ['string', 'string'] as const) : null;
  const page = pageAfter(entries, after && { searchName: after[0], customerId: after[1] }, opts.limit, (c) => accept(c) && (!words || words.test(c.searchName)));
  const last = page.items[page.items.length - 1];
  return { items: page.items as Customer[], nextCursor: page.more && last ? encodeCursor([last.searchName, last.customerId]) : null };
}

/** Rules 3 and 5 through chatRules: the queries above only narrow the candidates. */
async function filterVisible(
  networkId: string,
  viewer: Customer,
  visibility: 'administrators' | 'location_members' | 'network_members',
  candidates: Customer[],
): Promise<Customer[]> {
  const hidden = candidates.filter((c) => c.hideNameOnBookings).map((c) => c.customerId);
  // Safety: people who block the viewer are not shown to them.
  const blockers = await blockersOf(networkId, viewer.customerId);
  // Lookups by _id (conversations) and one query for the few hidden people of the page.
  const [posted, startedChats] = hidden.length
    ? await Promise.all([
        FeedPostModel.distinct('authorId', { networkId, authorId: { $in: hidden } }),
        Promise.all(
          hidden.map((id) => ConversationModel.findById(conversationIdForKey(directKey(networkId, id, viewer.customerId))).select({ startedBy: 1 }).lean()),
        ),
      ])
    : [[], []];
  const postedSet = new Set(posted.map(String));
  const startedSet = new Set(startedChats.filter((c) => c !== null).map((c) => c.startedBy));
  const viewerFacts = customerFacts(viewer);
  return candidates.filter((c) => {
    const candidateFacts = customerFacts(c);
    return (
      !blockers.has(c.customerId) &&
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
