import {
  COMMUNITY_VISIBILITIES,
  decideDirectChat,
  decideSupportChat,
  type ChatPath,
  type CommunityVisibility,
  type CustomerFacts,
} from '../../appservice/domain/chatRules';

/**
 * The rules as a truth table: community visibility × privacy state × context path × role ×
 * chats on/off, each row stated from PRODUCT.md "Rules".
 */

type Privacy = 'visible' | 'hidden' | 'hidden_but_posted_on_feed' | 'hidden_but_started_chat_with_requester';
type PathName = 'community' | 'feed_post_by_recipient' | 'feed_post_by_someone_else' | 'shared_booking' | 'unshared_booking' | 'none';
type RequesterRole = 'member' | 'nonmember' | 'admin';

const PRIVACY: Privacy[] = ['visible', 'hidden', 'hidden_but_posted_on_feed', 'hidden_but_started_chat_with_requester'];
const PATHS: PathName[] = ['community', 'feed_post_by_recipient', 'feed_post_by_someone_else', 'shared_booking', 'unshared_booking', 'none'];
const ROLES: RequesterRole[] = ['member', 'nonmember', 'admin'];
const RECIPIENT_KINDS = ['member', 'nonmember'] as const;
const LOCATION_SHARING = [true, false];

function person(id: string, kind: 'member' | 'nonmember', locationIds: string[], hide = false): CustomerFacts {
  return { id, kind, status: 'active', locationIds, hideNameOnBookings: hide };
}

function pathOf(name: PathName): ChatPath {
  switch (name) {
    case 'community':
      return { type: 'community' };
    case 'feed_post_by_recipient':
      return { type: 'feed_post', authorId: 'rec' };
    case 'feed_post_by_someone_else':
      return { type: 'feed_post', authorId: 'someone' };
    case 'shared_booking':
      return { type: 'booking', participantIds: ['req', 'rec', 'x'], shared: true };
    case 'unshared_booking':
      return { type: 'booking', participantIds: ['req', 'rec'], shared: false };
    case 'none':
      return { type: 'none' };
  }
}

/** Rule 3 stated as a table: who the Community page lists. */
const LISTED: Record<CommunityVisibility, (recipientKind: string, sharesLocation: boolean) => boolean> = {
  administrators: () => false,
  network_members: (kind) => kind === 'member',
  location_members: (kind, shares) => kind === 'member' && shares,
};

/** Rule 4: context paths that reach the recipient whatever the visibility. */
const CONTEXT_REACHES: Record<PathName, boolean> = {
  community: false,
  feed_post_by_recipient: true,
  feed_post_by_someone_else: false,
  shared_booking: true,
  unshared_booking: false,
  none: false,
};

const rows: Array<[CommunityVisibility, Privacy, PathName, RequesterRole, (typeof RECIPIENT_KINDS)[number], boolean, boolean]> = [];
for (const visibility of COMMUNITY_VISIBILITIES)
  for (const privacy of PRIVACY)
    for (const path of PATHS)
      for (const role of ROLES)
        for (const recipientKind of RECIPIENT_KINDS)
          for (const sharesLocation of LOCATION_SHARING)
            for (const chatsEnabled of [true, false]) rows.push([visibility, privacy, path, role, recipientKind, sharesLocation, chatsEnabled]);

describe('chat rules truth table', () => {
  test('covers every combination', () => {
    expect(rows).toHaveLength(3 * 4 * 6 * 3 * 2 * 2 * 2);
  });

  test.each(rows)('%s / recipient %s / via %s / requester %s / recipient %s / shares location %s / chats %s', (visibility, privacy, pathName, role, recipientKind, sharesLocation, chatsEnabled) => {
    const network = { chatsEnabled, communityVisibility: visibility };
    const recipient = person('rec', recipientKind, sharesLocation ? ['loc-a'] : ['loc-b'], privacy !== 'visible');

    if (role === 'admin') {
      // Rule 2: administrators reach every customer, privacy never blocks them; rule 1 still applies.
      expect(decideSupportChat(network, recipient).allowed).toBe(chatsEnabled);
      return;
    }

    const decision = decideDirectChat({
      network,
      requester: person('req', role, ['loc-a']),
      recipient,
      path: pathOf(pathName),
      recipientHasPostedOnFeed: privacy === 'hidden_but_posted_on_feed',
      recipientStartedChatWithRequester: privacy === 'hidden_but_started_chat_with_requester',
    });

    if (!chatsEnabled) {
      expect(decision).toEqual({ allowed: false, reason: 'chats_disabled' }); // rule 1
      return;
    }
    if (privacy === 'hidden') {
      expect(decision).toEqual({ allowed: false, reason: 'recipient_not_reachable' }); // rule 5
      return;
    }
    const reached = pathName === 'community' ? LISTED[visibility](recipientKind, sharesLocation) : CONTEXT_REACHES[pathName];
    expect(decision).toEqual(reached ? { allowed: true } : { allowed: false, reason: 'recipient_not_reachable' });
  });
});

describe('chat rules: people who cannot be reached', () => {
  const network = { chatsEnabled: true, communityVisibility: 'network_members' as const };

  test('a deactivated recipient is not reachable, even through a context path', () => {
    const recipient = { ...person('rec', 'member', []), status: 'deactivated' as const };
    const decision = decideDirectChat({
      network,
      requester: person('req', 'member', []),
      recipient,
      path: { type: 'feed_post', authorId: 'rec' },
      recipientHasPostedOnFeed: true,
      recipientStartedChatWithRequester: false,
    });
    expect(decision).toEqual({ allowed: false, reason: 'recipient_not_reachable' });
    expect(decideSupportChat(network, recipient).allowed).toBe(false);
  });

  test('a deactivated requester cannot start chats', () => {
    const decision = decideDirectChat({
      network,
      requester: { ...person('req', 'member', []), status: 'deactivated' },
      recipient: person('rec', 'member', []),
      path: { type: 'community' },
      recipientHasPostedOnFeed: false,
      recipientStartedChatWithRequester: false,
    });
    expect(decision).toEqual({ allowed: false, reason: 'requester_inactive' });
  });

  test('nobody starts a direct chat with themselves', () => {
    const me = person('req', 'member', ['loc-a']);
    const decision = decideDirectChat({
      network,
      requester: me,
      recipient: me,
      path: { type: 'community' },
      recipientHasPostedOnFeed: false,
      recipientStartedChatWithRequester: false,
    });
    expect(decision.allowed).toBe(false);
  });
});
