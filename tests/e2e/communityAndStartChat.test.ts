import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';
import { DirectoryChangeModel, directoryChangeId, NetworkModel } from '../../store';

/**
 * Rules 3–6 through HTTP: who appears on the Community page under each visibility, who can be
 * messaged through a Feed post or a shared booking, and the privacy rule from both sides.
 */
describe('community page and starting chats', () => {
  let s: TestServices;
  let n: NetworkFixture;

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      locations: ['downtown', 'harbour'],
      customers: {
        vera: { displayName: 'Vera Viewer', locationIds: ['downtown'] },
        lena: { displayName: 'Lena Lund', locationIds: ['downtown'] },
        otto: { displayName: 'Otto Olsen', locationIds: ['harbour'] },
        paul: { displayName: 'Paul Poster', locationIds: ['harbour'], hideNameOnBookings: true },
        hugo: { displayName: 'Hugo Hidden', locationIds: ['downtown'], hideNameOnBookings: true },
        nina: { kind: 'nonmember', displayName: 'Nina Nonmember', locationIds: ['downtown'] },
        dora: { displayName: 'Dora Deactivated', locationIds: ['downtown'], status: 'deactivated' },
      },
    });
    // Paul hides his name but made himself visible by posting on Feed.
    await s.api('PUT', `/v1/networks/${n.net}/feed-posts/p-paul`, n.service, { authorId: 'paul', createdAt: new Date().toISOString() });
    await s.api('PUT', `/v1/networks/${n.net}/feed-posts/p-otto`, n.service, { authorId: 'otto', createdAt: new Date().toISOString() });
    await s.api('PUT', `/v1/networks/${n.net}/bookings/b-shared`, n.service, { participantIds: ['vera', 'otto', 'hugo'], shared: true });
    await s.api('PUT', `/v1/networks/${n.net}/bookings/b-private`, n.service, { participantIds: ['vera', 'otto'], shared: false });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const setVisibility = (communityVisibility: string) =>
    s.api('PUT', `/v1/networks/${n.net}`, n.service, { name: 'Flex Offices', communityVisibility });
  const community = async (who: string, query = '') => {
    const res = await s.api('GET', `/v1/community${query}`, n.customer(who));
    expect(res.status).toBe(200);
    return (res.body.people as Array<{ customerId: string }>).map((p) => p.customerId);
  };
  const startChat = (from: string, to: string, via?: { type: string; id?: string }) =>
    s.api('POST', '/v1/chats', n.customer(from), { userId: to, ...(via ? { via } : {}) });

  test('network_members: active members of the network, hidden people left out unless they posted', async () => {
    await setVisibility('network_members');
    expect(await community('vera')).toEqual(['lena', 'otto', 'paul']);
    expect(await community('vera', '?locationId=harbour')).toEqual(['otto', 'paul']);
    expect(await community('vera', '?q=ol')).toEqual(['otto']);
  });

  test('location_members: only members sharing a location with the viewer', async () => {
    await setVisibility('location_members');
    expect(await community('vera')).toEqual(['lena']);
    expect(await community('otto')).toEqual(['paul']);
    expect(await community('vera', '?locationId=harbour')).toEqual([]);
    const refused = await startChat('vera', 'otto', { type: 'community' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('recipient_not_reachable');
  });

  test('administrators: nobody is listed, but Feed posts and shared bookings still open chats', async () => {
    await setVisibility('administrators');
    expect(await community('vera')).toEqual([]);
    expect((await startChat('vera', 'lena', { type: 'community' })).body.error.code).toBe('recipient_not_reachable');

    const viaPost = await startChat('vera', 'otto', { type: 'feed_post', id: 'p-otto' });
    expect(viaPost.status).toBe(200);
    expect(viaPost.body.kind).toBe('direct');
    // A post by someone else does not reach Lena; a booking Lena is not part of does not reach Otto.
    expect((await startChat('vera', 'lena', { type: 'feed_post', id: 'p-otto' })).body.error.code).toBe('recipient_not_reachable');
    expect((await startChat('lena', 'otto', { type: 'booking', id: 'b-private' })).body.error.code).toBe('recipient_not_reachable');
    // Vera and Otto have a chat now: any way in returns it (rule 6). The booking path itself, and an
    // unshared booking's participants, are proven on pairs without a chat below.
    const viaBooking = await startChat('otto', 'vera', { type: 'booking', id: 'b-shared' });
    expect(viaBooking.body.id).toBe(viaPost.body.id);
  });

  test('privacy: a hidden customer cannot be reached by others, and the refusal looks like any other', async () => {
    await setVisibility('network_members');
    const hidden = await startChat('vera', 'hugo', { type: 'booking', id: 'b-shared' });
    const unknown = await startChat('vera', 'nobody-here');
    expect(hidden.status).toBe(403);
    expect(hidden.body).toEqual(unknown.body);
    expect((await startChat('vera', 'hugo')).status).toBe(403);
  });

  test('privacy: when the hidden customer starts the chat, the other side can answer and now sees them', async () => {
    const started = await startChat('hugo', 'vera', { type: 'community' });
    expect(started.status).toBe(200);
    const answered = await startChat('vera', 'hugo');
    expect(answered.body.id).toBe(started.body.id);
    expect((await s.api('POST', `/v1/chats/${answered.body.id}/messages`, n.customer('vera'), { txnId: 'v1', body: 'hi Hugo' })).status).toBe(201);
    expect(await community('vera')).toContain('hugo');
    // Only towards Vera: Lena still cannot see or reach Hugo.
    expect(await community('lena')).not.toContain('hugo');
  });

  test('existing conversations stay writable when visibility narrows', async () => {
    await setVisibility('network_members');
    const chat = await startChat('vera', 'lena');
    await setVisibility('administrators');
    const sent = await s.api('POST', `/v1/chats/${chat.body.id}/messages`, n.customer('lena'), { txnId: 'l1', body: 'still here' });
    expect(sent.status).toBe(201);
    expect((await startChat('lena', 'vera')).body.id).toBe(chat.body.id);
  });

  test('non-members, deactivated customers and the viewer are never listed; pages follow the cursor', async () => {
    await setVisibility('network_members');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { people: Array<{ customerId: string; displayName: string }>; nextCursor: string | null } } = await s.api(
        'GET',
        `/v1/community?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        n.customer('lena'),
      );
      seen.push(...res.body.people.map((p) => p.customerId));
      cursor = res.body.nextCursor;
    } while (cursor);
    // Not Nina (non-member), Dora (deactivated), Hugo (hidden) or Lena herself.
    expect(seen).toEqual(['otto', 'paul', 'vera']);
  });

  test('a change through host sync shows on the very next Community page (renamed, hidden, deactivated, back)', async () => {
    await setVisibility('network_members');
    const putCustomer = (cid: string, fields: Record<string, unknown>) =>
      s.api('PUT', `/v1/networks/${n.net}/customers/${cid}`, n.service, {
        kind: 'member', displayName: 'Otto Olsen', locationIds: ['harbour'], hideNameOnBookings: false, status: 'active', ...fields,
      });
    const names = async () => {
      const res = await s.api('GET', '/v1/community?limit=100', n.customer('lena'));
      return (res.body.people as Array<{ customerId: string; displayName: string }>).map((p) => `${p.customerId}:${p.displayName}`);
    };
    expect(await names()).toContain('otto:Otto Olsen');
    try {
      expect((await putCustomer('otto', { displayName: 'Aaron Otto' })).status).toBeLessThan(300);
      expect((await names())[0]).toBe('otto:Aaron Otto');
      expect((await putCustomer('otto', { displayName: 'Aaron Otto', hideNameOnBookings: true })).status).toBeLessThan(300);
      expect((await names()).filter((x) => x.startsWith('otto:'))).toEqual(['otto:Aaron Otto']); // Otto posted on Feed: still listed
      expect((await putCustomer('otto', { status: 'deactivated' })).status).toBeLessThan(300);
      expect((await names()).some((x) => x.startsWith('otto:'))).toBe(false);
    } finally {
      await putCustomer('otto', {});
    }
    expect(await names()).toContain('otto:Otto Olsen');
  });

  test('a change whose record is gone still shows: the name index is reloaded', async () => {
    await setVisibility('network_members');
    expect(await community('lena')).toContain('otto');
    const rename = (displayName: string) =>
      s.api('PUT', `/v1/networks/${n.net}/customers/otto`, n.service, {
        kind: 'member', displayName, locationIds: ['harbour'], hideNameOnBookings: false, status: 'active',
      });
    try {
      expect((await rename('Zed Otto')).status).toBeLessThan(300);
      const network = await NetworkModel.findById(n.net).lean();
      await DirectoryChangeModel.deleteOne({ _id: directoryChangeId(n.net, network!.directoryRevision) });
      const res = await s.api('GET', '/v1/community?limit=100', n.customer('lena'));
      const people = res.body.people as Array<{ customerId: string; displayName: string }>;
      expect(people.at(-1)).toMatchObject({ customerId: 'otto', displayName: 'Zed Otto' });
    } finally {
      await rename('Otto Olsen');
    }
  });

  test('a customer lists their own conversations, newest activity first', async () => {
    const order = async () => {
      const res = await s.api('GET', '/v1/chats', n.customer('vera'));
      return res.body.chats.map((c: { participants: Array<{ customerId: string }> }) => c.participants.map((p) => p.customerId).sort().join('+'));
    };
    // Lena's "still here" is the newest message, then Vera's "hi Hugo", then the quiet chat with Otto
    // (the index follows Synapse's events, so give it a moment).
    const expected = ['lena+vera', 'hugo+vera', 'otto+vera'];
    await eventually('chats ordered by activity', async () => JSON.stringify(await order()) === JSON.stringify(expected));
    expect(await order()).toEqual(expected);
  });
});

/**
 * Rule 4 on pairs that have no chat yet: `openDirect` returns an existing conversation before it
 * looks at the path, so only a first chat shows which path opened it (or what refused it).
 */
describe('context paths open the first chat of a pair (rule 4)', () => {
  let s: TestServices;
  let n: NetworkFixture;

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      communityVisibility: 'administrators',
      locations: ['north', 'south'],
      customers: {
        ana: { displayName: 'Ana Arnold', locationIds: ['north'] },
        ben: { displayName: 'Ben Berg', locationIds: ['south'] },
        cai: { displayName: 'Cai Carter', locationIds: ['north'] },
        dan: { displayName: 'Dan Dahl', locationIds: ['south'] },
        eli: { displayName: 'Eli Eng', locationIds: ['south'] },
      },
    });
    const put = async (path: string, body: unknown) => expect((await s.api('PUT', `/v1/networks/${n.net}${path}`, n.service, body)).status).toBe(200);
    await put('/bookings/b-team', { participantIds: ['ana', 'ben'], shared: true });
    await put('/bookings/b-solo', { participantIds: ['cai', 'dan'], shared: false });
    await put('/feed-posts/p-dan', { authorId: 'dan', createdAt: new Date().toISOString() });
    await put('/feed-posts/p-cai-north', { authorId: 'cai', locationId: 'north', createdAt: new Date().toISOString() });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const startChat = (from: string, to: string, via?: { type: string; id?: string }) =>
    s.api('POST', '/v1/chats', n.customer(from), { userId: to, ...(via ? { via } : {}) });
  /** Who `who` has a chat with, from their own chat list. */
  const partnersOf = async (who: string) => {
    const res = await s.api('GET', '/v1/chats', n.customer(who));
    expect(res.status).toBe(200);
    return (res.body.chats as Array<{ customerIds: string[] }>).flatMap((c) => c.customerIds.filter((id) => id !== who)).sort();
  };
  const setVisibility = async (communityVisibility: string) =>
    expect((await s.api('PUT', `/v1/networks/${n.net}`, n.service, { name: 'Flex Offices', communityVisibility })).status).toBe(200);
  const refusal = { status: 403, code: 'recipient_not_reachable' };
  const outcome = (res: { status: number; body: any }) => ({ status: res.status, code: res.body?.error?.code });

  test('a shared booking opens a new chat between its participants when the Community page lists nobody', async () => {
    await setVisibility('administrators');
    expect(await partnersOf('ana')).toEqual([]);
    // Nothing else reaches Ben: the Community page lists nobody.
    expect(outcome(await startChat('ana', 'ben', { type: 'community' }))).toEqual(refusal);

    const opened = await startChat('ana', 'ben', { type: 'booking', id: 'b-team' });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ kind: 'direct', customerIds: ['ana', 'ben'] });
    expect(opened.body.matrixRoomId).toMatch(/^!/);
    expect(await partnersOf('ana')).toEqual(['ben']);
    expect(await partnersOf('ben')).toEqual(['ana']);
  });

  test('an unshared booking reaches none of its participants; shared, the same booking does', async () => {
    await setVisibility('administrators');
    expect(outcome(await startChat('cai', 'dan', { type: 'booking', id: 'b-solo' }))).toEqual(refusal);
    expect(outcome(await startChat('dan', 'cai', { type: 'booking', id: 'b-solo' }))).toEqual(refusal);
    expect(await partnersOf('cai')).toEqual([]);
    expect(await partnersOf('dan')).toEqual([]);

    // The same pair and booking, now shared: `shared` was all that refused them.
    expect((await s.api('PUT', `/v1/networks/${n.net}/bookings/b-solo`, n.service, { participantIds: ['cai', 'dan'], shared: true })).status).toBe(200);
    const opened = await startChat('cai', 'dan', { type: 'booking', id: 'b-solo' });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ kind: 'direct', customerIds: ['cai', 'dan'] });
    expect(await partnersOf('cai')).toEqual(['dan']);
  });

  test('under location_members, a post at another location opens no chat; the same post does when the Feed is network-wide', async () => {
    await setVisibility('location_members');
    // Ben (south) cannot see Cai's post at north, so it is no path to Cai.
    expect(outcome(await startChat('ben', 'cai', { type: 'feed_post', id: 'p-cai-north' }))).toEqual(refusal);
    expect(await partnersOf('ben')).not.toContain('cai');
    // With the Community page for administrators only, the Feed is the network's again: the post is
    // the one path that reaches Cai.
    await setVisibility('administrators');
    expect(outcome(await startChat('ben', 'cai', { type: 'community' }))).toEqual(refusal);
    const opened = await startChat('ben', 'cai', { type: 'feed_post', id: 'p-cai-north' });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ kind: 'direct', customerIds: ['ben', 'cai'] });
  });

  test('a removed Feed post is gone (204), and removing it again is a 404', async () => {
    await s.api('PUT', `/v1/networks/${n.net}/feed-posts/p-gone`, n.service, { authorId: 'eli', createdAt: new Date().toISOString() });
    expect((await s.api('DELETE', `/v1/networks/${n.net}/feed-posts/p-gone`, n.service)).status).toBe(204);
    expect((await s.api('DELETE', `/v1/networks/${n.net}/feed-posts/p-gone`, n.service)).status).toBe(404);
    expect(outcome(await startChat('ana', 'eli', { type: 'feed_post', id: 'p-gone' }))).toEqual(refusal);
  });

  test("a Feed post opens a new chat with its author, whom location_members does not list to the viewer", async () => {
    await setVisibility('location_members');
    const listed = await s.api('GET', '/v1/community', n.customer('ana'));
    expect(listed.body.people.map((p: { customerId: string }) => p.customerId)).toEqual(['cai']);
    const before = await partnersOf('ana');
    expect(before).not.toContain('dan');
    expect(outcome(await startChat('ana', 'dan', { type: 'community' }))).toEqual(refusal);
    // Dan's post reaches Dan only.
    expect(outcome(await startChat('ana', 'eli', { type: 'feed_post', id: 'p-dan' }))).toEqual(refusal);

    const opened = await startChat('ana', 'dan', { type: 'feed_post', id: 'p-dan' });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ kind: 'direct', customerIds: ['ana', 'dan'] });
    expect(await partnersOf('ana')).toEqual([...before, 'dan'].sort());
    expect(await partnersOf('eli')).toEqual([]);
  });
});
