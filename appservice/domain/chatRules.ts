/**
 * Who may message whom (PRODUCT.md "Rules"). Pure functions, no I/O: the portal API and the
 * appservice's Matrix-invite path both call these, so a rule lives in exactly one place.
 */

export type CommunityVisibility = 'administrators' | 'location_members' | 'network_members';
export const COMMUNITY_VISIBILITIES: readonly CommunityVisibility[] = [
  'administrators',
  'location_members',
  'network_members',
];

export interface NetworkChatSettings {
  chatsEnabled: boolean;
  communityVisibility: CommunityVisibility;
}

export interface CustomerFacts {
  id: string;
  kind: 'member' | 'nonmember';
  status: 'active' | 'deactivated';
  locationIds: readonly string[];
  hideNameOnBookings: boolean;
}

/** The rule-relevant facts of a stored customer record. */
export function customerFacts(c: {
  customerId: string;
  kind: string;
  status: string;
  locationIds: readonly string[];
  hideNameOnBookings: boolean;
}): CustomerFacts {
  return {
    id: c.customerId,
    kind: c.kind as CustomerFacts['kind'],
    status: c.status as CustomerFacts['status'],
    locationIds: c.locationIds,
    hideNameOnBookings: c.hideNameOnBookings,
  };
}

/** How the requester reached the recipient. */
export type ChatPath =
  | { type: 'community' }
  /** A Feed post; `authorId` is its author, `locationId` where it was posted (none: the whole network). */
  | { type: 'feed_post'; authorId: string; locationId?: string | null }
  /** A booking; the path holds only if it is shared and both are participants. */
  | { type: 'booking'; participantIds: readonly string[]; shared: boolean }
  | { type: 'none' };

export interface DirectChatRequest {
  network: NetworkChatSettings;
  requester: CustomerFacts;
  recipient: CustomerFacts;
  path: ChatPath;
  /** The recipient has posted on Feed (made themselves visible, rule 5). */
  recipientHasPostedOnFeed: boolean;
  /** The recipient started a conversation with the requester before (rule 5's exception). */
  recipientStartedChatWithRequester: boolean;
  /** The recipient blocks the requester (Safety: a blocked person reaches the blocker by no path). */
  requesterBlockedByRecipient?: boolean;
}

export type Decision =
  | { allowed: true }
  | { allowed: false; reason: 'chats_disabled' | 'requester_inactive' | 'recipient_not_reachable' };

const ALLOW: Decision = { allowed: true };

/** Rule 5: a customer who hides their name on bookings and has not made themselves visible. */
export function isHiddenFrom(
  recipient: CustomerFacts,
  facts: { recipientHasPostedOnFeed: boolean; recipientStartedChatWithRequester: boolean },
): boolean {
  return recipient.hideNameOnBookings && !facts.recipientHasPostedOnFeed && !facts.recipientStartedChatWithRequester;
}

/**
 * Rule 3: whether `candidate` appears on `viewer`'s Community page (privacy aside).
 * Listed are active members; `location_members` also needs a shared location.
 */
export function isListedByVisibility(
  visibility: CommunityVisibility,
  viewer: CustomerFacts,
  candidate: CustomerFacts,
): boolean {
  if (viewer.id === candidate.id || candidate.status !== 'active' || candidate.kind !== 'member') return false;
  switch (visibility) {
    case 'administrators':
      return false;
    case 'network_members':
      return true;
    case 'location_members':
      return candidate.locationIds.some((l) => viewer.locationIds.includes(l));
  }
}

/**
 * Rule 4's "a Feed post they can see". A post at a location is seen by that location's customers
 * when the network limits its community to locations (`location_members`); otherwise, and for a
 * post without a location, by every customer of the network. (The Feed belongs to the host
 * platform; this is the decision we hold it to, README › Rules.)
 */
export function feedPostVisibleTo(visibility: CommunityVisibility, viewer: CustomerFacts, post: { locationId?: string | null }): boolean {
  if (!post.locationId || visibility !== 'location_members') return true;
  return viewer.locationIds.includes(post.locationId);
}

/** Rule 4: a context path that reaches the recipient whatever the community visibility. */
export function contextPathReaches(path: ChatPath, requester: CustomerFacts, recipientId: string, visibility: CommunityVisibility): boolean {
  const requesterId = requester.id;
  switch (path.type) {
    case 'feed_post':
      return path.authorId === recipientId && feedPostVisibleTo(visibility, requester, path);
    case 'booking':
      return path.shared && path.participantIds.includes(requesterId) && path.participantIds.includes(recipientId);
    default:
      return false;
  }
}

/**
 * Rules 1, 3, 4, 5 for a *new* direct conversation started by a customer (rule 6: existing
 * conversations are not re-checked; callers look those up first).
 */
export function decideDirectChat(req: DirectChatRequest): Decision {
  if (!req.network.chatsEnabled) return { allowed: false, reason: 'chats_disabled' };
  if (req.requester.status !== 'active') return { allowed: false, reason: 'requester_inactive' };
  const { requester, recipient } = req;
  if (requester.id === recipient.id || recipient.status !== 'active') {
    return { allowed: false, reason: 'recipient_not_reachable' };
  }
  // Never told why: a block looks like any other unreachable person.
  if (req.requesterBlockedByRecipient) return { allowed: false, reason: 'recipient_not_reachable' };
  if (isHiddenFrom(recipient, req)) {
    // The hidden customer started it: the other side may answer (handled by the caller finding the
    // existing conversation); otherwise nobody reaches them.
    return { allowed: false, reason: 'recipient_not_reachable' };
  }
  const reached =
    req.path.type === 'community'
      ? isListedByVisibility(req.network.communityVisibility, requester, recipient)
      : contextPathReaches(req.path, requester, recipient.id, req.network.communityVisibility);
  return reached ? ALLOW : { allowed: false, reason: 'recipient_not_reachable' };
}

/**
 * A Matrix client does not say how the requester found the recipient: the chat is allowed when any
 * of the paths the requester actually has allows it.
 */
export function decideDirectChatByAnyPath(req: Omit<DirectChatRequest, 'path'>, paths: readonly ChatPath[]): Decision {
  let refusal: Decision = { allowed: false, reason: 'recipient_not_reachable' };
  for (const path of paths) {
    const decision = decideDirectChat({ ...req, path });
    if (decision.allowed) return decision;
    refusal = decision;
  }
  return refusal;
}

/** Rule 2 (and 1): administrators reach every customer of their network; privacy never blocks them. */
export function decideSupportChat(network: NetworkChatSettings, customer: CustomerFacts): Decision {
  if (!network.chatsEnabled) return { allowed: false, reason: 'chats_disabled' };
  if (customer.status !== 'active') return { allowed: false, reason: 'recipient_not_reachable' };
  return ALLOW;
}
