import {
  COMMUNITY_VISIBILITIES,
  decideDirectChat,
  decideDirectChatByAnyPath,
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

/** What the production rules answer for one row (administrators: the support chat). */
function decisionOf([visibility, privacy, pathName, role, recipientKind, sharesLocation, chatsEnabled]: (typeof rows)[number]) {
  const network = { chatsEnabled, communityVisibility: visibility };
  const recipient = person('rec', recipientKind, sharesLocation ? ['loc-a'] : ['loc-b'], privacy !== 'visible');
  if (role === 'admin') return decideSupportChat(network, recipient);
  return decideDirectChat({
    network,
    requester: person('req', role, ['loc-a']),
    recipient,
    path: pathOf(pathName),
    recipientHasPostedOnFeed: privacy === 'hidden_but_posted_on_feed',
    recipientStartedChatWithRequester: privacy === 'hidden_but_started_chat_with_requester',
  });
}

describe('chat rules truth table', () => {
  test('allows exactly the combinations the rules name, counted by hand', () => {
    // Customers (member or non-member requester, 2) with chats on and a recipient who is not hidden
    // (3 privacy states), per (recipient kind x shared location) = 4 combinations:
    //   community page: administrators 0, network_members 2 (members), location_members 1;
    //   the recipient's Feed post 4, a shared booking 4; someone else's post, an unshared booking, none 0.
    // Per visibility 8 + 10 + 9 = 27, so 27 x 3 x 2 = 162 direct chats. Administrators reach every
    // customer while chats are on: 3 x 4 x 6 x 2 x 2 = 288 support chats.
    const allowed = { direct: 0, support: 0 };
    const refusals: Record<string, number> = {};
    for (const row of rows) {
      const decision = decisionOf(row);
      if (decision.allowed) allowed[row[3] === 'admin' ? 'support' : 'direct']++;
      else refusals[decision.reason] = (refusals[decision.reason] ?? 0) + 1;
    }
    expect(allowed).toEqual({ direct: 162, support: 288 });
    // Chats off refuses every row, administrators' too (3 x 4 x 6 x 3 x 2 x 2 = 864); the other
    // customer rows with chats on (576 - 162) are "not reachable", never saying why.
    expect(refusals).toEqual({ chats_disabled: 864, recipient_not_reachable: 576 - 162 });
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

describe('chat rules: any of the paths a Matrix client has (decideDirectChatByAnyPath)', () => {
  const network = { chatsEnabled: true, communityVisibility: 'administrators' as const };
  const base = {
    network,
    requester: person('req', 'member', ['loc-a']),
    recipient: person('rec', 'member', ['loc-b']),
    recipientHasPostedOnFeed: false,
    recipientStartedChatWithRequester: false,
  };
  const notReachable = { allowed: false, reason: 'recipient_not_reachable' };

  test('one path decides as decideDirectChat does, for every row of the truth table', () => {
    let allowed = 0;
    for (const [visibility, privacy, pathName, role, recipientKind, sharesLocation, chatsEnabled] of rows) {
      if (role === 'admin') continue;
      const req = {
        network: { chatsEnabled, communityVisibility: visibility },
        requester: person('req', role, ['loc-a']),
        recipient: person('rec', recipientKind, sharesLocation ? ['loc-a'] : ['loc-b'], privacy !== 'visible'),
        recipientHasPostedOnFeed: privacy === 'hidden_but_posted_on_feed',
        recipientStartedChatWithRequester: privacy === 'hidden_but_started_chat_with_requester',
      };
      const single = decideDirectChat({ ...req, path: pathOf(pathName) });
      expect(decideDirectChatByAnyPath(req, [pathOf(pathName)])).toEqual(single);
      if (single.allowed) allowed++;
    }
    expect(allowed).toBe(162);
  });

  test('allowed when any path allows, wherever it stands in the list', () => {
    const open = pathOf('shared_booking');
    const closed = [pathOf('community'), pathOf('unshared_booking'), pathOf('feed_post_by_someone_else'), pathOf('none')];
    expect(decideDirectChatByAnyPath(base, closed)).toEqual(notReachable);
    for (let at = 0; at <= closed.length; at++) {
      const paths = [...closed.slice(0, at), open, ...closed.slice(at)];
      expect({ at, decision: decideDirectChatByAnyPath(base, paths) }).toEqual({ at, decision: { allowed: true } });
    }
    expect(decideDirectChatByAnyPath(base, [pathOf('community'), pathOf('feed_post_by_recipient')])).toEqual({ allowed: true });
  });

  test('no path reaches nobody', () => {
    expect(decideDirectChatByAnyPath({ ...base, network: { ...network, communityVisibility: 'network_members' } }, [])).toEqual(notReachable);
  });

  test('refusals keep their reason: chats off, an inactive requester, a hidden recipient', () => {
    const all = PATHS.map(pathOf);
    expect(decideDirectChatByAnyPath({ ...base, network: { ...network, chatsEnabled: false } }, all)).toEqual({ allowed: false, reason: 'chats_disabled' });
    expect(decideDirectChatByAnyPath({ ...base, requester: { ...base.requester, status: 'deactivated' } }, all)).toEqual({ allowed: false, reason: 'requester_inactive' });
    // Rule 5: no path reaches a hidden customer, a shared booking included.
    expect(decideDirectChatByAnyPath({ ...base, recipient: { ...base.recipient, hideNameOnBookings: true } }, all)).toEqual(notReachable);
    // Having posted on Feed makes them reachable again, through any path that holds.
    expect(
      decideDirectChatByAnyPath({ ...base, recipient: { ...base.recipient, hideNameOnBookings: true }, recipientHasPostedOnFeed: true }, [pathOf('community'), pathOf('feed_post_by_recipient')]),
    ).toEqual({ allowed: true });
  });
});

describe('chat rules: a Feed post opens a chat only for those who can see it', () => {
  const requester = person('req', 'member', ['loc-a']);
  const recipient = person('rec', 'member', ['loc-b']);
  const ask = (communityVisibility: CommunityVisibility, locationId: string | null) =>
    decideDirectChat({
      network: { chatsEnabled: true, communityVisibility },
      requester,
      recipient,
      path: { type: 'feed_post', authorId: 'rec', locationId },
      recipientHasPostedOnFeed: true,
      recipientStartedChatWithRequester: false,
    }).allowed;

  test.each([
    // [visibility, where the post is, may the requester (at loc-a) start the chat?]
    ['location_members', 'loc-a', true],
    ['location_members', 'loc-b', false],
    ['location_members', null, true],
    ['network_members', 'loc-b', true],
    ['administrators', 'loc-b', true],
    ['administrators', null, true],
  ] as const)('under %s, a post at %s: %s', (visibility, locationId, allowed) => {
    expect(ask(visibility, locationId)).toBe(allowed);
  });

  test('a Matrix invite is allowed when any of the author\'s posts is visible to the requester', () => {
    const base = { network: { chatsEnabled: true, communityVisibility: 'location_members' as const }, requester, recipient, recipientHasPostedOnFeed: true, recipientStartedChatWithRequester: false };
    const elsewhere: ChatPath = { type: 'feed_post', authorId: 'rec', locationId: 'loc-b' };
    const here: ChatPath = { type: 'feed_post', authorId: 'rec', locationId: 'loc-a' };
    expect(decideDirectChatByAnyPath(base, [{ type: 'community' }, elsewhere]).allowed).toBe(false);
    expect(decideDirectChatByAnyPath(base, [{ type: 'community' }, elsewhere, here]).allowed).toBe(true);
  });
});
