import * as sdk from 'matrix-js-sdk';
import { startServices, uniqueId, eventually, type TestServices } from '../support/harness';
import { findNetwork } from '../../store';
import { entityJobId } from '../../provisioning/provisioningQueue';

/**
 * Rule 10: what a portal user can do from any Matrix client, under the same rules. The Matrix
 * client is matrix-js-sdk logged in through POST /v1/me/matrix-session.
 */

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
const EXE = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), Buffer.alloc(512, 1)]);

interface MatrixPerson {
  client: sdk.MatrixClient;
  userId: string;
  accessToken: string;
  homeserverUrl: string;
}

describe('a Matrix client follows the same rules as the portal', () => {
  let s: TestServices;
  const net = uniqueId('mx');
  const otherNet = uniqueId('mx-other');
  const people: Record<string, MatrixPerson> = {};

  async function matrixLogin(token: string): Promise<MatrixPerson> {
    const session = await s.api('POST', '/v1/me/matrix-session', token);
    expect(session.status).toBe(200);
    const { homeserverUrl, userId, accessToken, deviceId } = session.body;
    return { client: sdk.createClient({ baseUrl: homeserverUrl, userId, accessToken, deviceId }), userId, accessToken, homeserverUrl };
  }

  /** The reason our virtual user gave when it left (refused or redirected) a client's room. */
  async function leaveReason(by: MatrixPerson, roomId: string, userId: string): Promise<string> {
    return eventually(`${userId} to leave ${roomId}`, async () => {
      const res = await fetch(
        `${by.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(userId)}`,
        { headers: { authorization: `Bearer ${by.accessToken}` } },
      );
      const member = (await res.json()) as { membership?: string; reason?: string };
      return member.membership === 'leave' ? (member.reason ?? '') : null;
    });
  }

  async function inviteFromNewRoom(from: MatrixPerson, inviteeId: string): Promise<string> {
    const { room_id } = await from.client.createRoom({ preset: sdk.Preset.PrivateChat, is_direct: true, invite: [inviteeId] });
    return room_id;
  }

  /** A refused invite is refused by the homeserver before it exists: the reason is the error of createRoom. */
  async function refusedInvite(from: MatrixPerson, inviteeId: string): Promise<string> {
    const err = await from.client.createRoom({ preset: sdk.Preset.PrivateChat, is_direct: true, invite: [inviteeId] }).then(
      () => null,
      (e: unknown) => e as { httpStatus?: number; errcode?: string; data?: { error?: string } },
    );
    expect({ status: err?.httpStatus, errcode: err?.errcode }).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    return err?.data?.error ?? '';
  }

  beforeAll(async () => {
    s = await startServices();
    const service = s.token('service', 'host', net);
    expect((await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Matrix side', communityVisibility: 'network_members' })).status).toBe(200);
    const customers: Array<[string, string, boolean]> = [
      ['alice', 'member', false],
      ['bob', 'member', false],
      ['carol', 'member', true],
      ['dave', 'member', false],
    ];
    for (const [id, kind, hide] of customers) {
      const res = await s.api('PUT', `/v1/networks/${net}/customers/${id}`, service, {
        kind,
        displayName: id.toUpperCase(),
        locationIds: [],
        hideNameOnBookings: hide,
        status: 'active',
      });
      expect(res.status).toBe(201);
    }
    expect((await s.api('PUT', `/v1/networks/${net}/admins/erin`, service, { displayName: 'Erin' })).status).toBe(200);
    const otherService = s.token('service', 'host', otherNet);
    await s.api('PUT', `/v1/networks/${otherNet}`, otherService, { name: 'Elsewhere' });
    await s.api('PUT', `/v1/networks/${otherNet}/customers/oscar`, otherService, {
      kind: 'member',
      displayName: 'Oscar',
      locationIds: [],
      hideNameOnBookings: false,
      status: 'active',
    });
    people.alice = await matrixLogin(s.token('customer', 'alice', net));
    people.bob = await matrixLogin(s.token('customer', 'bob', net));
    people.oscar = await matrixLogin(s.token('customer', 'oscar', otherNet));
  });
  afterAll(async () => {
    await s?.stop();
  });

  const userId = (id: string, network = net, kind: 'customer' | 'admin' = 'customer') =>
    s.all.appservice.services.virtualUsers.userId({ kind, networkId: network, id });

  test('an allowed invite opens the conversation in a service-governed room, and a second direct room is refused', async () => {
    const roomId = await inviteFromNewRoom(people.alice!, userId('bob'));
    const reason = await leaveReason(people.alice!, roomId, userId('bob'));
    const canonical = /continues in (!\S+)/.exec(reason)?.[1];
    expect(canonical).toBeDefined();
    // The portal sees the same conversation, backed by that room, with both joined.
    const chats = await s.api('GET', '/v1/chats', s.token('customer', 'alice', net));
    const direct = chats.body.chats.find((c: { kind: string; customerIds: string[] }) => c.kind === 'direct' && c.customerIds.includes('bob'));
    expect(direct.matrixRoomId).toBe(canonical);
    const members = await s.all.appservice.services.matrix.request<{ joined: Record<string, unknown> }>(
      'GET',
      `/_matrix/client/v3/rooms/${encodeURIComponent(canonical!)}/joined_members`,
    );
    expect(Object.keys(members.joined)).toEqual(expect.arrayContaining([userId('alice'), userId('bob')]));

    // Alice can talk there from her Matrix client.
    await people.alice!.client.joinRoom(canonical!);
    await people.alice!.client.sendTextMessage(canonical!, 'hi bob, from Element');
    const history = await eventually('the message in bob\'s portal history', async () => {
      const res = await s.api('GET', `/v1/chats/${direct.id}/messages`, s.token('customer', 'bob', net));
      return res.body.messages?.length ? res.body.messages : null;
    });
    expect(history[0]).toMatchObject({ body: 'hi bob, from Element', sender: { kind: 'customer', id: 'alice' } });

    // A second direct room for the same pair is refused with a pointer to the existing one.
    expect(await refusedInvite(people.bob!, userId('alice'))).toBe(`You already have a conversation with this person: ${canonical}`);
  });

  test('rule 5: a hidden customer is refused, without saying why', async () => {
    expect(await refusedInvite(people.alice!, userId('carol'))).toBe('This person cannot be messaged.');
  });

  test('rule 5 exception: once carol posts on Feed she is reachable', async () => {
    const service = s.token('service', 'host', net);
    await s.api('PUT', `/v1/networks/${net}/feed-posts/p1`, service, { authorId: 'carol', createdAt: new Date().toISOString() });
    const roomId = await inviteFromNewRoom(people.alice!, userId('carol'));
    expect(await leaveReason(people.alice!, roomId, userId('carol'))).toMatch(/^This conversation continues in !/);
  });

  test('rule 3: with visibility "administrators" only context paths reach people', async () => {
    const admin = s.token('admin', 'erin', net);
    expect((await s.api('PATCH', `/v1/networks/${net}/settings`, admin, { communityVisibility: 'administrators' })).status).toBe(200);
    try {
      expect(await refusedInvite(people.bob!, userId('dave'))).toBe('This person cannot be messaged.');
      // A shared booking of both is a path whatever the visibility (rule 4).
      await s.api('PUT', `/v1/networks/${net}/bookings/b1`, s.token('service', 'host', net), { participantIds: ['bob', 'dave'], shared: true });
      const allowed = await inviteFromNewRoom(people.bob!, userId('dave'));
      expect(await leaveReason(people.bob!, allowed, userId('dave'))).toMatch(/^This conversation continues in !/);
    } finally {
      await s.api('PATCH', `/v1/networks/${net}/settings`, admin, { communityVisibility: 'network_members' });
    }
  });

  test('people of another network and administrators are refused with their reasons', async () => {
    expect(await refusedInvite(people.oscar!, userId('alice'))).toBe(
      'Only people of the same coworking network on this server can message this person.',
    );
    expect(await refusedInvite(people.alice!, userId('erin', net, 'admin'))).toBe(
      'Administrators are reached through the support conversation of the portal.',
    );
  });

  test('chats disabled: an invite is refused', async () => {
    const admin = s.token('admin', 'erin', net);
    expect((await s.api('PATCH', `/v1/networks/${net}/settings`, admin, { chatsEnabled: false })).status).toBe(200);
    try {
      expect(await refusedInvite(people.bob!, userId('carol'))).toBe('Chats are disabled for this network.');
    } finally {
      await s.api('PATCH', `/v1/networks/${net}/settings`, admin, { chatsEnabled: true });
      // Matrix clients may send again once the fan-out has restored the rooms (README, "Chats turned
      // back on"): the tests below use Matrix clients in those rooms.
      const network = await findNetwork(net);
      const jobId = entityJobId('chats-toggle', net, null, network!.chatsToggleVersion);
      await eventually('the chats-on fan-out finished', async () => {
        const job = await s.all.portalApi.deps.queue.queue.getJob(jobId);
        return !job || (await job.getState()) === 'completed';
      }, 60000);
    }
  });

  test('unsend from each side reaches the other, and the preview follows', async () => {
    const alice = s.token('customer', 'alice', net);
    const bob = s.token('customer', 'bob', net);
    const chat = (await s.api('POST', '/v1/chats', alice, { userId: 'bob' })).body;
    const first = await s.api('POST', `/v1/chats/${chat.id}/messages`, alice, { txnId: 'r1', body: 'keep me' });
    const second = await s.api('POST', `/v1/chats/${chat.id}/messages`, alice, { txnId: 'r2', body: 'oops, wrong chat' });
    expect([first.status, second.status]).toEqual([201, 201]);

    // Portal unsend -> the Matrix client sees a redaction.
    expect((await s.api('DELETE', `/v1/chats/${chat.id}/messages/${encodeURIComponent(second.body.id)}`, alice)).status).toBe(204);
    const redacted = await eventually('the redaction on the Matrix side', async () => {
      const ev = await people.bob!.client.fetchRoomEvent(chat.matrixRoomId, second.body.id);
      return ev.unsigned?.redacted_because ? ev : null;
    });
    expect(redacted.content).toEqual({});

    // Matrix-client unsend -> gone from the portal history and from the preview.
    await people.bob!.client.joinRoom(chat.matrixRoomId);
    const fromBob = await people.bob!.client.sendTextMessage(chat.matrixRoomId, 'sent from Element');
    await eventually('bob\'s message in the preview', async () => {
      const list = await s.api('GET', '/v1/chats', alice);
      return list.body.chats.find((c: { id: string; lastMessage?: { body: string } }) => c.id === chat.id)?.lastMessage?.body === 'sent from Element';
    });
    await people.bob!.client.redactEvent(chat.matrixRoomId, fromBob.event_id);
    const after = await eventually('the preview to fall back', async () => {
      const list = await s.api('GET', '/v1/chats', alice);
      const c = list.body.chats.find((x: { id: string }) => x.id === chat.id);
      return c?.lastMessage?.body === 'keep me' ? c : null;
    });
    expect(after.lastMessage.id).toBe(first.body.id);
    const history = await s.api('GET', `/v1/chats/${chat.id}/messages`, bob);
    const bodies = history.body.messages.map((m: { body: string }) => m.body);
    expect(bodies[0]).toBe('keep me');
    expect(bodies).not.toContain('oops, wrong chat');
    expect(bodies).not.toContain('sent from Element');
  });

  test('media: an image from a Matrix client reaches the portal; a disallowed file is removed with the reason', async () => {
    const alice = s.token('customer', 'alice', net);
    const chat = (await s.api('POST', '/v1/chats', alice, { userId: 'bob' })).body;
    await people.bob!.client.joinRoom(chat.matrixRoomId);
    const png = await people.bob!.client.uploadContent(PNG, { type: 'image/png', name: 'dot.png' });
    await people.bob!.client.sendMessage(chat.matrixRoomId, { msgtype: sdk.MsgType.Image, body: 'dot.png', url: png.content_uri, info: { mimetype: 'image/png', size: PNG.length } });
    const image = await eventually('the image in the portal', async () => {
      const res = await s.api('GET', `/v1/chats/${chat.id}/messages`, alice);
      return res.body.messages?.find((m: { type: string }) => m.type === 'image');
    });
    // Served once the service has checked it against the network's policy (it indexes it then).
    const download = await eventually('the checked image to be downloadable', async () => {
      const res = await fetch(`${s.baseUrl}/v1/chats/${chat.id}/media/${image.attachment.mediaId}`, { headers: { authorization: `Bearer ${alice}` } });
      return res.status === 200 ? res : null;
    });
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);

    // An executable dressed as a PDF, sent from the Matrix client: redacted, with the reason.
    const exe = await people.bob!.client.uploadContent(EXE, { type: 'application/pdf', name: 'invoice.pdf' });
    const sent = await people.bob!.client.sendMessage(chat.matrixRoomId, { msgtype: sdk.MsgType.File, body: 'invoice.pdf', url: exe.content_uri, info: { mimetype: 'application/pdf' } });
    const removed = await eventually('the executable to be redacted', async () => {
      const ev = await people.bob!.client.fetchRoomEvent(chat.matrixRoomId, sent.event_id);
      return ev.unsigned?.redacted_because ? ev : null;
    });
    expect(String(removed.unsigned!.redacted_because!.content.reason)).toMatch(/not accepted in this network|could not be recognised/);
    // The notice follows the redaction (the guard redacts first, then says why).
    const history = await eventually('the notice saying why', async () => {
      const res = await s.api('GET', `/v1/chats/${chat.id}/messages`, alice);
      return res.body.messages?.[0]?.sender?.kind === 'service' ? res : null;
    });
    expect(history.body.messages.some((m: { body: string }) => m.body === 'invoice.pdf')).toBe(false);
    expect(history.body.messages[0]).toMatchObject({ sender: { kind: 'service' }, body: expect.stringContaining('An attachment was removed') });
  });

  test('read receipts from a Matrix client clear the unread count in the portal', async () => {
    const alice = s.token('customer', 'alice', net);
    const chat = (await s.api('POST', '/v1/chats', alice, { userId: 'dave' })).body;
    const sent = await s.api('POST', `/v1/chats/${chat.id}/messages`, alice, { txnId: 'u1', body: 'are you there?' });
    const dave = await matrixLogin(s.token('customer', 'dave', net));
    const unreadFor = async () => {
      const list = await s.api('GET', '/v1/chats', s.token('customer', 'dave', net));
      return list.body.chats.find((c: { id: string }) => c.id === chat.id)?.unreadCount;
    };
    expect(await eventually('one unread', async () => ((await unreadFor()) === 1 ? 1 : null))).toBe(1);
    await dave.client.joinRoom(chat.matrixRoomId);
    await dave.client.sendReadReceipt(new sdk.MatrixEvent({ event_id: sent.body.id, room_id: chat.matrixRoomId, type: 'm.room.message', content: {} }));
    expect(await eventually('zero unread', async () => ((await unreadFor()) === 0 ? 'zero' : null))).toBe('zero');
  });
});
