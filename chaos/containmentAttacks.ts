import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { directKey } from '../appservice';
import { eventually, type BenchStack } from '../bench/support/benchStack';
import { createNetwork, runId, type BenchNetwork } from '../bench/support/networkFixture';
import { IndexedMessageModel } from '../store';
import type { ScenarioResult } from './scenarioResult';

/** How long an after-the-fact clean-up (revert, redact, leave) may take before the attack counts as a success. */
const CLEANUP_WITHIN_MS = 10000;
const STALL_REFERENCES = 20;
const STALL_PROBE_LIMIT_MS = 2000;

interface MatrixSession {
  homeserverUrl: string;
  userId: string;
  accessToken: string;
}

interface Attack {
  name: string;
  /** Resolves with what went wrong for the attacker's side ("" when the attack was stopped). */
  run(): Promise<string>;
}

/**
 * R7: containment. A curious member with the Matrix token of POST /v1/me/matrix-session and the raw
 * Client-Server API, or with raw HTTP against the portal, tries the ways out of the rules of issue
 * 11 and some of our own. Each attack is one sequence that either is refused up front or cleaned up
 * within seconds; none may succeed and no answer may be a 5xx. The stall probe: 20 references to
 * media that is never uploaded in one network, then another network's message must reach its
 * administrators within 2 s.
 */
export async function containmentAttacks(b: BenchStack): Promise<ScenarioResult> {
  const serverErrors: string[] = [];
  const a = await createNetwork(b, { customers: { mallory: 'Mallory', alice: 'Alice', hidden: 'Hidden Person' }, admins: { 'a-admin': 'Admin A' } });
  const other = await createNetwork(b, { customers: { eve: 'Eve', bob: 'Bob' }, admins: { 'b-admin': 'Admin B' } });
  const off = await createNetwork(b, { customers: { oscar: 'Oscar', olga: 'Olga' } });

  const api = async (method: string, path: string, token?: string, body?: unknown, headers?: Record<string, string>) => {
    const res = await b.api(method, path, token, body, headers);
    if (res.status >= 500) serverErrors.push(`${method} ${path} → ${res.status}`);
    return res;
  };
  const session = async (token: string): Promise<MatrixSession> => {
    const res = await api('POST', '/v1/me/matrix-session', token);
    if (res.status !== 200) throw new Error(`matrix-session answered ${res.status}`);
    return res.body as MatrixSession;
  };
  const matrix = async (who: MatrixSession | null, method: string, path: string, body?: unknown) => {
    const base = who?.homeserverUrl ?? b.config.synapse.url;
    const res = await fetch(base + path, {
      method,
      headers: { ...(who ? { authorization: `Bearer ${who.accessToken}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, any>;
    if (res.status >= 500) serverErrors.push(`Matrix ${method} ${path.split('?')[0]} → ${res.status}`);
    return { status: res.status, body: json };
  };
  const room = (id: string) => encodeURIComponent(id);
  let txn = 0;
  const send = (who: MatrixSession, roomId: string, content: Record<string, unknown>, type = 'm.room.message') =>
    matrix(who, 'PUT', `/_matrix/client/v3/rooms/${room(roomId)}/send/${type}/r9-${Date.now()}-${txn++}`, content);
  const redacted = async (roomId: string, eventId: string) => Boolean((await b.matrix.getEvent(roomId, eventId, `@${b.registration.senderLocalpart}:${b.domain}`))?.unsigned?.redacted_because);
  /** "" if the event is refused or redacted within the clean-up time, else what stayed. */
  const refusedOrRedacted = async (what: string, roomId: string, res: { status: number; body: Record<string, any> }) => {
    if (res.status >= 400) return '';
    const eventId = String(res.body.event_id);
    try {
      await eventually(`${what} removed`, () => redacted(roomId, eventId), CLEANUP_WITHIN_MS, 200);
      return '';
    } catch {
      return `${what} stayed in the room`;
    }
  };
  const membership = async (roomId: string, userId: string) =>
    (await b.matrix.getState<{ membership?: string }>(roomId, 'm.room.member', userId).catch(() => null))?.membership ?? 'none';

  const mallory = await session(a.customer('mallory'));
  const eve = await session(other.customer('eve'));
  const oscar = await session(off.customer('oscar'));
  const direct = await b.ok('POST', '/v1/chats', a.customer('mallory'), { userId: 'alice' });
  const offChat = await b.ok('POST', '/v1/chats', off.customer('oscar'), { userId: 'olga' });
  // The host platform turns chats off through network sync; the rooms become read-only.
  await b.ok('PUT', `/v1/networks/${off.net}`, off.service, { name: 'Chats off', chatsEnabled: false });
  const exe = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), Buffer.alloc(512, 1)]);
  const uploadExe = async (who: MatrixSession) => {
    const res = await fetch(`${who.homeserverUrl}/_matrix/media/v3/upload?filename=invoice.pdf`, {
      method: 'POST',
      headers: { authorization: `Bearer ${who.accessToken}`, 'content-type': 'application/pdf' },
      body: exe,
    });
    return String(((await res.json()) as { content_uri?: string }).content_uri);
  };

  /** A public room Mallory made, for the attacks that try to use one. */
  const selfMade = async (preset: 'public_chat' | 'private_chat') => matrix(mallory, 'POST', '/_matrix/client/v3/createRoom', { preset, name: 'our place' });

  const attacks: Attack[] = [
    {
      name: 'public room with an alias',
      run: async () => ((await matrix(mallory, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat', room_alias_name: runId('meet') })).status < 400 ? 'created' : ''),
    },
    {
      name: 'public room joined from another network by room id',
      run: async () => {
        const made = await selfMade('public_chat');
        if (made.status >= 400) return '';
        const joined = await matrix(eve, 'POST', `/_matrix/client/v3/join/${room(made.body.room_id)}`, {});
        if (joined.status >= 400) return '';
        return (await send(eve, made.body.room_id, { msgtype: 'm.text', body: 'hi from B' })).status < 400 ? 'networks met in a self-made room' : '';
      },
    },
    {
      name: 'public room between members of a network whose chats are off',
      run: async () => {
        const made = await matrix(oscar, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' });
        if (made.status >= 400) return '';
        return (await send(oscar, made.body.room_id, { msgtype: 'm.text', body: 'chats are off, but…' })).status < 400 ? 'a message in a self-made room with chats off' : '';
      },
    },
    {
      name: 'private room with an invite across networks',
      run: async () => {
        const made = await selfMade('private_chat');
        if (made.status >= 400) return '';
        const invite = await matrix(mallory, 'POST', `/_matrix/client/v3/rooms/${room(made.body.room_id)}/invite`, { user_id: eve.userId });
        if (invite.status >= 400) return '';
        const join = await matrix(eve, 'POST', `/_matrix/client/v3/join/${room(made.body.room_id)}`, {});
        return join.status < 400 ? 'a customer of B joined A\'s room' : '';
      },
    },
    {
      name: 'join another network\'s conversation room by id',
      run: async () => {
        const theirs = await b.ok('POST', '/v1/chats', other.customer('eve'), { userId: 'bob' });
        return (await matrix(mallory, 'POST', `/_matrix/client/v3/join/${room(theirs.matrixRoomId)}`, {})).status < 400 ? 'joined' : '';
      },
    },
    {
      name: 'rename to "Support team"',
      run: async () => {
        const res = await matrix(mallory, 'PUT', `/_matrix/client/v3/profile/${encodeURIComponent(mallory.userId)}/displayname`, { displayname: 'Support team' });
        if (res.status >= 400) return '';
        try {
          await eventually('the name reverted', async () => (await b.matrix.getProfile(mallory.userId))?.displayname !== 'Support team', CLEANUP_WITHIN_MS, 200);
          return '';
        } catch {
          return 'the name stayed';
        }
      },
    },
    {
      name: 'membership re-sent with another display name in a read-only room',
      run: async () => {
        const res = await matrix(oscar, 'PUT', `/_matrix/client/v3/rooms/${room(offChat.matrixRoomId)}/state/m.room.member/${encodeURIComponent(oscar.userId)}`, { membership: 'join', displayname: 'Support team' });
        if (res.status >= 400) return '';
        try {
          await eventually('the room name reverted', async () => (await b.matrix.getState<{ displayname?: string }>(offChat.matrixRoomId, 'm.room.member', oscar.userId))?.displayname !== 'Support team', CLEANUP_WITHIN_MS, 200);
          return '';
        } catch {
          return 'the per-room name stayed';
        }
      },
    },
    {
      name: 'profile of a stranger of another network',
      run: async () => {
        const res = await matrix(eve, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(a.customerUserId('hidden'))}`);
        return res.status < 400 || JSON.stringify(res.body).includes('Hidden Person') ? 'the name was answered' : '';
      },
    },
    {
      name: 'profile without a token',
      run: async () => ((await matrix(null, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(a.customerUserId('hidden'))}`)).status < 400 ? 'the name was answered' : ''),
    },
    {
      name: 'conversation alias computed from the pair',
      run: async () => {
        const plain = createHash('sha256').update(directKey(a.net, 'mallory', 'alice')).digest('hex').slice(0, 32);
        for (const guess of [`#cw_dm_${plain}:${b.domain}`, `#cw_${plain}:${b.domain}`]) {
          const res = await matrix(eve, 'GET', `/_matrix/client/v3/directory/room/${encodeURIComponent(guess)}`);
          if (res.status < 400) return `${guess} resolved`;
        }
        return '';
      },
    },
    {
      name: 'publish a conversation in the room directory',
      run: async () => ((await matrix(mallory, 'PUT', `/_matrix/client/v3/directory/list/room/${room(direct.matrixRoomId)}`, { visibility: 'public' })).status < 400 ? 'published' : ''),
    },
    {
      name: 'message from a Matrix client with chats off',
      run: async () => refusedOrRedacted('the message', offChat.matrixRoomId, await send(oscar, offChat.matrixRoomId, { msgtype: 'm.text', body: 'sent anyway' })),
    },
    {
      name: 'executable inside an edit',
      run: async () => {
        const first = await send(mallory, direct.matrixRoomId, { msgtype: 'm.text', body: 'see the invoice' });
        const url = await uploadExe(mallory);
        return refusedOrRedacted(
          'the edit with an executable',
          direct.matrixRoomId,
          await send(mallory, direct.matrixRoomId, {
            msgtype: 'm.text',
            body: '* invoice',
            'm.new_content': { msgtype: 'm.file', body: 'invoice.pdf', url },
            'm.relates_to': { rel_type: 'm.replace', event_id: first.body.event_id },
          }),
        );
      },
    },
    {
      name: 'executable as a sticker',
      run: async () => refusedOrRedacted('the sticker', direct.matrixRoomId, await send(mallory, direct.matrixRoomId, { body: 'sticker', url: await uploadExe(mallory), info: {} }, 'm.sticker')),
    },
    {
      name: 'executable as the url of a text',
      run: async () => refusedOrRedacted('the text with a url', direct.matrixRoomId, await send(mallory, direct.matrixRoomId, { msgtype: 'm.text', body: 'look', url: await uploadExe(mallory) })),
    },
    {
      name: 'executable in an <img> of formatted_body',
      run: async () =>
        refusedOrRedacted(
          'the formatted image',
          direct.matrixRoomId,
          await send(mallory, direct.matrixRoomId, { msgtype: 'm.text', body: 'pic', format: 'org.matrix.custom.html', formatted_body: `<img src="${await uploadExe(mallory)}">` }),
        ),
    },
    {
      name: 'forged redaction of another room\'s message',
      run: async () => {
        const theirs = await b.ok('POST', '/v1/chats', other.customer('eve'), { userId: 'bob' });
        const sent = await b.ok('POST', `/v1/chats/${theirs.id}/messages`, other.customer('eve'), { txnId: runId('t'), body: 'keep me' });
        await eventually('the message indexed', async () => (await IndexedMessageModel.exists({ _id: sent.id })) !== null, 20000, 200);
        await send(mallory, direct.matrixRoomId, { redacts: sent.id, reason: 'forged' }, 'm.room.redaction');
        await new Promise((r) => setTimeout(r, 2000));
        const history = await api('GET', `/v1/chats/${theirs.id}/messages`, other.customer('bob'));
        return history.body.messages?.some((m: { id: string }) => m.id === sent.id) ? '' : 'the message vanished from the portal';
      },
    },
    {
      name: 'an old Matrix token after a new session',
      run: async () => {
        const first = await session(a.customer('alice'));
        await session(a.customer('alice'));
        return (await matrix(first, 'GET', '/_matrix/client/v3/account/whoami')).status < 400 ? 'the old token still works' : '';
      },
    },
    {
      name: 'a deactivated customer\'s Matrix token and portal token',
      run: async () => {
        const bobSession = await session(other.customer('bob'));
        await b.ok('PUT', `/v1/networks/${other.net}/customers/bob`, other.service, { kind: 'member', displayName: 'Bob', locationIds: ['loc-1'], hideNameOnBookings: false, status: 'deactivated' });
        try {
          await eventually('the token refused', async () => (await matrix(bobSession, 'GET', '/_matrix/client/v3/account/whoami')).status === 401, CLEANUP_WITHIN_MS, 200);
        } catch {
          return 'the Matrix token still works';
        }
        return (await api('GET', '/v1/chats', other.customer('bob'))).status < 400 ? 'the portal still answers' : '';
      },
    },
    {
      name: 'TRACE on every path',
      run: async () => {
        const url = new URL(`${b.baseUrl}/v1/chats`);
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'TRACE' }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
        if (status >= 500) serverErrors.push(`TRACE /v1/chats → ${status}`);
        return status === 405 ? '' : `answered ${status}`;
      },
    },
    {
      name: '30 MB import without a token',
      run: async () => {
        const started = Date.now();
        const res = await fetch(`${b.baseUrl}/v1/networks/${a.net}/customers:import`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"customers":[${'"x",'.repeat(7_500_000)}"x"]}` }).catch(() => null);
        if (res && res.status >= 500) serverErrors.push(`import → ${res.status}`);
        if (res && res.status < 400) return 'accepted';
        return Date.now() - started > 2000 ? `refused only after ${Date.now() - started} ms` : '';
      },
    },
    {
      name: 'text of control characters and over the event limit',
      run: async () => {
        const control = await api('POST', `/v1/chats/${direct.id}/messages`, a.customer('mallory'), { txnId: runId('t'), body: '\u0001'.repeat(15000) });
        const huge = await api('POST', `/v1/chats/${direct.id}/messages`, a.customer('mallory'), { txnId: runId('t'), body: 'x'.repeat(70000) });
        return control.status === 400 && (huge.status === 400 || huge.status === 413) ? '' : `answered ${control.status} and ${huge.status}`;
      },
    },
    {
      name: 'JWT signed with alg none',
      run: async () => {
        const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const forged = `${part({ alg: 'none', typ: 'JWT' })}.${part({ role: 'operator', sub: 'me', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
        return (await api('GET', '/v1/ops/health', forged)).status === 401 ? '' : 'accepted';
      },
    },
  ];

  const outcomes: string[] = [];
  for (const attack of attacks) {
    let result: string;
    try {
      result = await attack.run();
    } catch (err) {
      result = `could not run: ${(err as Error).message}`;
    }
    if (result) outcomes.push(`${attack.name}: ${result}`);
  }

  const stallMs = await stallProbe(b, a, other, mallory, matrix);
  const problems = [...outcomes, ...serverErrors.map((e) => `5xx: ${e}`)];
  if (stallMs >= STALL_PROBE_LIMIT_MS) problems.push(`stall probe: the other network's message took ${stallMs} ms`);
  return {
    id: 'R7',
    title: 'containment (Matrix clients and raw HTTP)',
    counts: { attacks: attacks.length, succeeded: outcomes.length, responses5xx: serverErrors.length, stallProbeMs: stallMs },
    problems,
  };
}

/** 20 never-uploaded media references in network A, then network B's support message → B's administrators, in ms. */
async function stallProbe(
  b: BenchStack,
  a: BenchNetwork,
  other: BenchNetwork,
  attacker: MatrixSession,
  matrix: (who: MatrixSession | null, method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, any> }>,
): Promise<number> {
  const rooms: string[] = [];
  for (const peer of ['alice', 'hidden']) rooms.push((await b.ok('POST', '/v1/chats', a.customer('mallory'), { userId: peer })).matrixRoomId);
  rooms.push((await b.ok('POST', '/v1/chats/support', a.customer('mallory'))).matrixRoomId);
  for (let i = 0; i < STALL_REFERENCES; i++) {
    const reserved = String((await matrix(attacker, 'POST', '/_matrix/media/v1/create')).body.content_uri);
    await matrix(attacker, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(rooms[i % rooms.length]!)}/send/m.room.message/stall-${Date.now()}-${i}`, { msgtype: 'm.file', body: 'later.pdf', url: reserved });
  }
  await new Promise((r) => setTimeout(r, 500));
  const chat = await b.ok('POST', '/v1/chats/support', other.customer('eve'));
  const started = Date.now();
  const sent = await b.ok('POST', `/v1/chats/${chat.id}/messages`, other.customer('eve'), { txnId: runId('probe'), body: 'anyone there?' });
  await eventually(
    'the probe notified',
    async () => (await b.api('GET', `/v1/networks/${other.net}/notifications`, other.admin('b-admin'))).body?.notifications?.some((n: { messageId?: string }) => n.messageId === sent.id),
    30000,
    50,
  );
  return Date.now() - started;
}
