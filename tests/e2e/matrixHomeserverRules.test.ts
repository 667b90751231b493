import { eventually, startServices, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';
import { matrixRequest } from '../support/matrixRequest';

/**
 * Issue 11, findings 1 and 8, refused by the homeserver itself (synapse-http-antispam asking
 * appservice/domain/homeserverRules.ts): with the token of POST /v1/me/matrix-session and the raw
 * Client-Server API, no room of a client's own carries anything, nobody joins it, nothing crosses
 * networks, nothing is said with chats off, and no membership carries a name of its own.
 */
describe('refused at the homeserver: a Matrix client meets people only in the service rooms', () => {
  let s: TestServices;
  let a: NetworkFixture;
  let b: NetworkFixture;
  let off: NetworkFixture;
  let readOnly: NetworkFixture;
  const sessions: Record<string, { homeserverUrl: string; userId: string; accessToken: string }> = {};
  let chatRoomId: string;
  let offRoomId: string;
  let readOnlyRoomId: string;

  const matrix = (who: string, method: string, path: string, body?: unknown) => matrixRequest(sessions[who]!, method, path, body);
  const room = (id: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(id)}`;
  let txn = 0;
  const say = (who: string, roomId: string, body: string) =>
    matrix(who, 'PUT', `${room(roomId)}/send/m.room.message/t${++txn}-${Date.now()}`, { msgtype: 'm.text', body });

  beforeAll(async () => {
    s = await startServices();
    a = await createNetwork(s, { customers: { ada: { displayName: 'Ada Lovelace' }, bo: { displayName: 'Bo' } } });
    b = await createNetwork(s, { customers: { eve: { displayName: 'Eve' } } });
    off = await createNetwork(s, { customers: { cy: { displayName: 'Cy' }, dee: { displayName: 'Dee' } }, admins: { olga: 'Olga Admin' } });
    readOnly = await createNetwork(s, { customers: { rita: { displayName: 'Rita' }, ro: { displayName: 'Ro' } }, admins: { rex: 'Rex Admin' } });
    const people = [['ada', a.customer('ada')], ['bo', a.customer('bo')], ['eve', b.customer('eve')], ['cy', off.customer('cy')], ['dee', off.customer('dee')], ['rita', readOnly.customer('rita')]] as const;
    for (const [name, token] of people) {
      const res = await s.api('POST', '/v1/me/matrix-session', token);
      expect(res.status).toBe(200);
      sessions[name] = res.body;
    }
    const chat = await s.api('POST', '/v1/chats', a.customer('ada'), { userId: 'bo' });
    expect(chat.status).toBeLessThan(300);
    chatRoomId = chat.body.matrixRoomId;
    const offChat = await s.api('POST', '/v1/chats', off.customer('cy'), { userId: 'dee' });
    expect(offChat.status).toBeLessThan(300);
    offRoomId = offChat.body.matrixRoomId;
    // A network whose chats are off and whose room the workers have made read-only.
    const roChat = await s.api('POST', '/v1/chats', readOnly.customer('rita'), { userId: 'ro' });
    expect(roChat.status).toBeLessThan(300);
    readOnlyRoomId = roChat.body.matrixRoomId;
    expect((await s.api('PATCH', `/v1/networks/${readOnly.net}/settings`, readOnly.admin('rex'), { chatsEnabled: false })).status).toBe(200);
    await eventually('the room to be read-only', async () => {
      const levels = await matrix('rita', 'GET', `${room(readOnlyRoomId)}/state/m.room.power_levels/`);
      return Number(levels.body?.events_default ?? 0) > 0;
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('networks do not meet in a room a client made: joining it by id is refused, and nothing can be said in it', async () => {
    // The service's own room works (the positive control).
    expect((await say('ada', chatRoomId, 'hello Bo')).status).toBe(200);
    const own = await matrix('eve', 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', name: 'Meet here' });
    expect(own.status).toBe(200);
    const ownRoomId = String(own.body!.room_id);
    // Ada, of another network, and Bo, of the same one: a public room needs no invite, yet the join is refused.
    for (const who of ['ada', 'bo']) {
      const join = await matrix(who, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(ownRoomId)}`, {});
      expect({ who, status: join.status, errcode: join.body?.errcode }).toEqual({ who, status: 403, errcode: 'M_FORBIDDEN' });
    }
    const members = await matrix('eve', 'GET', `${room(ownRoomId)}/joined_members`);
    expect(Object.keys((members.body?.joined as object) ?? {})).toEqual([sessions.eve!.userId]);
    // The room carries nothing: no message, no file, no topic.
    const message = await say('eve', ownRoomId, 'anyone here?');
    expect({ status: message.status, errcode: message.body?.errcode }).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    const topic = await matrix('eve', 'PUT', `${room(ownRoomId)}/state/m.room.topic/`, { topic: 'swap files here' });
    expect(topic.status).toBe(403);
  });

  test('a cross-network invite is refused before it exists, with the reason', async () => {
    const own = await matrix('eve', 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat' });
    expect(own.status).toBe(200);
    const ownRoomId = String(own.body!.room_id);
    const invite = await matrix('eve', 'POST', `${room(ownRoomId)}/invite`, { user_id: sessions.ada!.userId });
    expect({ status: invite.status, errcode: invite.body?.errcode, error: invite.body?.error }).toEqual({
      status: 403,
      errcode: 'M_FORBIDDEN',
      error: 'Only people of the same coworking network on this server can message this person.',
    });
    // No invite was ever made: Ada's membership in that room does not exist.
    const membership = await matrix('eve', 'GET', `${room(ownRoomId)}/state/m.room.member/${encodeURIComponent(sessions.ada!.userId)}`);
    expect(membership.status).toBe(404);
    // Into a room of the service only the service invites (power levels say so too).
    const intoService = await matrix('ada', 'POST', `${room(chatRoomId)}/invite`, { user_id: sessions.eve!.userId });
    expect(intoService.status).toBe(403);
  });

  test('a membership re-sent with another name keeps the host platform\'s name, even in a read-only room', async () => {
    for (const [who, roomId, name] of [['ada', chatRoomId, 'Ada Lovelace'], ['rita', readOnlyRoomId, 'Rita']] as const) {
      const memberPath = `${room(roomId)}/state/m.room.member/${encodeURIComponent(sessions[who]!.userId)}`;
      const member = await matrix(who, 'GET', memberPath);
      expect(member.body?.displayname).toBe(name);
      const resent = await matrix(who, 'PUT', memberPath, { ...member.body, displayname: 'Support team' });
      expect(resent.status).toBe(200);
      // The event as stored, read at once (no clean-up after the fact involved).
      const stored = await matrix(who, 'GET', `${room(roomId)}/event/${encodeURIComponent(String(resent.body!.event_id))}`);
      expect({ who, displayname: (stored.body?.content as { displayname?: string }).displayname }).toEqual({ who, displayname: name });
    }
  });

  test('nobody renames themself: a display name change is refused, the host platform\'s name stays', async () => {
    const me = encodeURIComponent(sessions.ada!.userId);
    const rename = await matrix('ada', 'PUT', `/_matrix/client/v3/profile/${me}/displayname`, { displayname: 'Support team' });
    expect({ status: rename.status, errcode: rename.body?.errcode }).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    expect((await matrix('bo', 'GET', `/_matrix/client/v3/profile/${me}`)).body?.displayname).toBe('Ada Lovelace');
    const member = await matrix('bo', 'GET', `${room(chatRoomId)}/state/m.room.member/${me}`);
    expect(member.body?.displayname).toBe('Ada Lovelace');
  });

  test('a first avatar of one\'s own (which Synapse lets through) is taken away within seconds', async () => {
    const me = encodeURIComponent(sessions.ada!.userId);
    const upload = await fetch(`${sessions.ada!.homeserverUrl}/_matrix/media/v3/upload?filename=logo.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sessions.ada!.accessToken}`, 'content-type': 'image/png' },
      body: Buffer.from('89504e470d0a1a0a', 'hex'),
    });
    const mxc = String(((await upload.json()) as { content_uri: string }).content_uri);
    const avatar = await matrix('ada', 'PUT', `/_matrix/client/v3/profile/${me}/avatar_url`, { avatar_url: mxc });
    expect(avatar.status).toBe(200);
    await eventually('the avatar to be gone from the profile and the room', async () => {
      const profile = await matrix('bo', 'GET', `/_matrix/client/v3/profile/${me}`);
      const member = await matrix('bo', 'GET', `${room(chatRoomId)}/state/m.room.member/${me}`);
      return profile.body?.avatar_url === undefined && member.body?.avatar_url === undefined && member.body?.displayname === 'Ada Lovelace';
    }, 10000);
  });

  test('the host platform still renames people: a new name reaches the profile and the rooms', async () => {
    const renamed = await s.api('PUT', `/v1/networks/${a.net}/customers/bo`, a.service, {
      kind: 'member',
      displayName: 'Bo Renamed',
      locationIds: [],
      hideNameOnBookings: false,
      status: 'active',
    });
    expect(renamed.status).toBeLessThan(300);
    const bo = encodeURIComponent(sessions.bo!.userId);
    await eventually('the new name on the profile and in the room', async () => {
      const profile = await matrix('ada', 'GET', `/_matrix/client/v3/profile/${bo}`);
      const member = await matrix('ada', 'GET', `${room(chatRoomId)}/state/m.room.member/${bo}`);
      return profile.body?.displayname === 'Bo Renamed' && member.body?.displayname === 'Bo Renamed';
    }, 20000);
  });

  test('a join by alias to a room of another network is refused', async () => {
    const alias = await matrix('ada', 'GET', `${room(chatRoomId)}/state/m.room.canonical_alias`);
    const join = await matrix('eve', 'POST', `/_matrix/client/v3/join/${encodeURIComponent(String(alias.body?.alias))}`, {});
    expect(join.status).toBe(403);
    const members = await matrix('ada', 'GET', `${room(chatRoomId)}/joined_members`);
    expect(Object.keys((members.body?.joined as object) ?? {})).not.toContain(sessions.eve!.userId);
  });
  // Last: it stops the workers.
  test('with chats off, a message from a Matrix client is refused at once, and nobody can start anything', async () => {
    expect((await say('cy', offRoomId, 'before the switch')).status).toBe(200);
    // The workers stop: the fan-out that would make the rooms read-only stays queued.
    await s.all.worker.stop();
    const patched = await s.api('PATCH', `/v1/networks/${off.net}/settings`, off.admin('olga'), { chatsEnabled: false });
    expect(patched.status).toBe(200);
    const after = await say('cy', offRoomId, 'while chats are off');
    expect({ status: after.status, errcode: after.body?.errcode, error: after.body?.error }).toEqual({
      status: 403,
      errcode: 'M_FORBIDDEN',
      error: 'Chats are disabled for this network.',
    });
    // No room of their own to meet in either.
    const own = await matrix('dee', 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' });
    expect({ status: own.status, errcode: own.body?.errcode }).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    // Unsending stays possible (it only takes away).
    const mine = await matrix('cy', 'GET', `${room(offRoomId)}/messages?dir=b&limit=20`);
    const sent = (mine.body?.chunk as Array<{ event_id: string; sender: string; type: string }>).find((e) => e.type === 'm.room.message' && e.sender === sessions.cy!.userId)!;
    expect((await matrix('cy', 'PUT', `${room(offRoomId)}/redact/${encodeURIComponent(sent.event_id)}/undo-${Date.now()}`, {})).status).toBe(200);
  });
});
