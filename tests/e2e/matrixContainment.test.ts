import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { directKey, supportKey } from '../../appservice';
import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';
import { matrixRequest } from '../support/matrixRequest';

/**
 * The Matrix side is a second front door: what a member can reach with the access token of
 * POST /v1/me/matrix-session and the raw Client-Server API, refused at the homeserver.
 */
describe('containment: a Matrix client cannot step outside the rules', () => {
  let s: TestServices;
  let a: NetworkFixture;
  let b: NetworkFixture;
  const sessions: Record<string, { homeserverUrl: string; userId: string; accessToken: string }> = {};
  let chatRoomId: string;

  const matrix = (who: string, method: string, path: string, body?: unknown) => matrixRequest(sessions[who]!, method, path, body);

  beforeAll(async () => {
    s = await startServices();
    a = await createNetwork(s, { customers: { ada: { displayName: 'Ada Hidden-Surname' }, bo: { displayName: 'Bo' } } });
    b = await createNetwork(s, { customers: { eve: { displayName: 'Eve' } } });
    for (const [name, token] of [['ada', a.customer('ada')], ['bo', a.customer('bo')], ['eve', b.customer('eve')]] as const) {
      const res = await s.api('POST', '/v1/me/matrix-session', token);
      expect(res.status).toBe(200);
      sessions[name] = res.body;
    }
    const chat = await s.api('POST', '/v1/chats', a.customer('ada'), { userId: 'bo' });
    expect(chat.status).toBeLessThan(300);
    chatRoomId = chat.body.matrixRoomId;
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("a customer's display name is shown only to people who share a room with them", async () => {
    const profile = `/_matrix/client/v3/profile/${encodeURIComponent(sessions.ada!.userId)}`;
    // Bo shares the conversation room with Ada: he sees her name (the positive control).
    expect(await matrix('bo', 'GET', profile)).toMatchObject({ status: 200, body: { displayname: 'Ada Hidden-Surname' } });
    // Without a token: refused.
    const anonymous = await fetch(`${sessions.ada!.homeserverUrl}${profile}`);
    expect(anonymous.status).toBe(401);
    // Eve, of another network, shares no room with Ada: refused, and her name is not in the answer.
    const eve = await matrix('eve', 'GET', profile);
    expect(eve.status).toBe(403);
    expect(JSON.stringify(eve.body)).not.toContain('Hidden-Surname');
  });

  test('customers cannot create room aliases or publish rooms: no public meeting places', async () => {
    const withAlias = await matrix('eve', 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', room_alias_name: 'meet-here' });
    expect(withAlias.status).toBe(403);
    // Asking for a published room creates it unpublished; publishing it afterwards is refused.
    const published = await matrix('eve', 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', visibility: 'public' });
    expect(published.status).toBe(200);
    const listed = await matrix('eve', 'PUT', `/_matrix/client/v3/directory/list/room/${encodeURIComponent(String(published.body!.room_id))}`, { visibility: 'public' });
    expect(listed.status).toBe(403);
    // A plain room of her own is still allowed (the invite path turns those into conversations)...
    const own = await matrix('eve', 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat' });
    expect(own.status).toBe(200);
    // ...but it cannot be given an alias afterwards either.
    const alias = await matrix('eve', 'PUT', `/_matrix/client/v3/directory/room/${encodeURIComponent(`#meet-later:${s.config.matrixDomain}`)}`, {
      room_id: own.body!.room_id,
    });
    expect(alias.status).toBe(403);
    // The room directory lists nothing.
    const directory = await matrix('eve', 'GET', '/_matrix/client/v3/publicRooms');
    expect(directory).toMatchObject({ status: 200, body: { chunk: [] } });
  });

  test('a customer cannot rename themself, globally or in one room: the host platform\'s name comes back', async () => {
    const me = encodeURIComponent(sessions.ada!.userId);
    const memberPath = `/_matrix/client/v3/rooms/${encodeURIComponent(chatRoomId)}/state/m.room.member/${me}`;
    const member = await matrix('ada', 'GET', memberPath);
    expect(member.body?.displayname).toBe('Ada Hidden-Surname');
    // Globally: refused by the homeserver (enable_set_displayname: false)...
    const rename = await matrix('ada', 'PUT', `/_matrix/client/v3/profile/${me}/displayname`, { displayname: 'Support team' });
    expect({ status: rename.status, errcode: rename.body?.errcode }).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    expect((await matrix('bo', 'GET', `/_matrix/client/v3/profile/${me}`)).body?.displayname).toBe('Ada Hidden-Surname');
    // ...and in one room only.
    expect((await matrix('ada', 'PUT', memberPath, { ...member.body, displayname: 'Support team' })).status).toBe(200);
    await eventually('the room name to come back', async () => (await matrix('bo', 'GET', memberPath)).body?.displayname === 'Ada Hidden-Surname', 20000);
  });

  test("a conversation's alias cannot be computed from who is in it", async () => {
    const state = await matrix('ada', 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(chatRoomId)}/state/m.room.canonical_alias`);
    // The service gave the room an alias (that is how racing creators end with one room)...
    expect(state.status).toBe(200);
    const alias = String(state.body?.alias ?? '');
    expect(alias).toMatch(/^#cw_d_[0-9a-f]{32}:/);
    // ...and it is not the plain hash of the pair's key (which anyone knowing two ids could compute).
    const guessable = createHash('sha256').update(directKey(a.net, 'ada', 'bo')).digest('hex').slice(0, 32);
    expect(alias).not.toContain(guessable);
    expect(alias).not.toContain(createHash('sha256').update(supportKey(a.net, 'ada')).digest('hex').slice(0, 32));
  });
});

describe('containment: bad input cannot sink the API', () => {
  let s: TestServices;
  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('an import body is not read before the token is checked', async () => {
    // Announce 30 MB and send 1 KB: an answer before the rest arrives proves nothing waited for
    // (or parsed) the body.
    const url = new URL(`${s.baseUrl}/v1/networks/some-net/customers:import`);
    const callers: Array<[string | undefined, number]> = [
      [undefined, 401],
      [`Bearer ${s.token('customer', 'ada', 'some-net')}`, 403],
      [`Bearer ${s.token('service', 'h', 'other-net')}`, 404],
    ];
    for (const [authorization, expected] of callers) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 30 * 1024 * 1024, ...(authorization ? { authorization } : {}) } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on('error', (err) => (err.message.includes('socket hang up') || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
        req.write(`{"customers": [${'{},'.repeat(300)}`);
        setTimeout(() => reject(new Error('no answer while the body was still being sent')), 5000).unref();
      });
      expect({ expected, status }).toEqual({ expected, status: expected });
    }
  });

  test('a text Synapse could not store is a 400 naming the field; the longest text that fits is sent', async () => {
    const n = await createNetwork(s, { customers: { ada: { displayName: 'Ada' }, bo: { displayName: 'Bo' } } });
    const chat = (await s.api('POST', '/v1/chats', n.customer('ada'), { userId: 'bo' })).body;
    const controls = await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('ada'), { txnId: 'ctl', body: `x${'\u0001'.repeat(15000)}x` });
    expect({ status: controls.status, code: controls.body.error?.code, field: controls.body.error?.field }).toEqual({ status: 400, code: 'invalid_request', field: 'body' });
    // 20,000 three-byte characters: 60 KB of UTF-8, within Synapse's 64 KiB event limit.
    const longest = await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('ada'), { txnId: 'cjk', body: '漢'.repeat(20000) });
    expect(longest.status).toBe(201);
    const history = await s.api('GET', `/v1/chats/${chat.id}/messages?limit=5`, n.customer('bo'));
    expect(history.body.messages.map((m: { body: string }) => m.body.length)).toEqual([20000]);
  });

  test("a deactivated customer's token opens none of their conversations", async () => {
    const n = await createNetwork(s, { customers: { ada: { displayName: 'Ada' }, bo: { displayName: 'Bo' } } });
    const chat = (await s.api('POST', '/v1/chats', n.customer('ada'), { userId: 'bo' })).body;
    const send = (txnId: string) => s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('ada'), { txnId, body: 'hello' });
    expect((await send('before')).status).toBe(201);
    const off = await s.api('PUT', `/v1/networks/${n.net}/customers/ada`, n.service, { kind: 'member', displayName: 'Ada', status: 'deactivated' });
    expect(off.status).toBe(200);
    expect((await send('after')).status).toBe(403);
    expect((await s.api('GET', `/v1/chats/${chat.id}/messages`, n.customer('ada'))).body.error?.code).toBe('account_deactivated');
    // Bo still reads the conversation, and sees only the message from before.
    const history = await s.api('GET', `/v1/chats/${chat.id}/messages`, n.customer('bo'));
    expect(history.body.messages.map((m: { body: string }) => m.body)).toEqual(['hello']);
  });

  test('an unknown HTTP method is a JSON 405, not a plain-text 501', async () => {
    // fetch refuses to send TRACE; a plain HTTP request does what a scanner would.
    const url = new URL(`${s.baseUrl}/v1/chats`);
    const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'TRACE' }, (r) => {
        let body = '';
        r.on('data', (c) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type'] ?? ''), body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect({ status: res.status, type: res.type.split(';')[0], code: JSON.parse(res.body).error?.code }).toEqual({ status: 405, type: 'application/json', code: 'method_not_allowed' });
  });
});
