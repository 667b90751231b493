import { isDeepStrictEqual } from 'node:util';
import { setChatsEnabled } from '../../store';
import type { MatrixError } from '../../appservice/matrix/matrixApi';
import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';
import { ConversationModel, SavedPowerLevelsModel } from '../../store';

/**
 * Rule 1 through the portal: with chats off every chat route of the network answers
 * chats_disabled and the feature flag says off; nothing is deleted, so turning chats back on
 * restores every conversation. Also: another network's chats are simply not found.
 */
describe('chats toggle', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let chatId: string;
  let messageId: string;
  let mediaId: string;

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      customers: { alice: { displayName: 'Alice Andersen' }, bob: { displayName: 'Bob Bauer' } },
      admins: { ada: 'Ada Admin' },
    });
    chatId = (await s.api('POST', '/v1/chats', n.customer('alice'), { userId: 'bob' })).body.id;
    messageId = (await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 't1', body: 'before the switch' })).body.id;
    const form = new FormData();
    form.append('txnId', 'file-1');
    form.append('file', new Blob([Buffer.from('%PDF-1.4\n%%EOF\n')]), 'a.pdf');
    const upload = await fetch(`${s.baseUrl}/v1/chats/${chatId}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${n.customer('alice')}` },
      body: form,
    });
    mediaId = ((await upload.json()) as { attachment: { mediaId: string } }).attachment.mediaId;
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** Every chat route of the API contract, as its callers use it. */
  const chatCalls = (): Array<[string, string, () => string, unknown?]> => [
    ['GET', '/v1/community', () => n.customer('alice')],
    ['GET', '/v1/chats', () => n.customer('alice')],
    ['POST', '/v1/chats', () => n.customer('alice'), { userId: 'bob' }],
    ['POST', '/v1/chats/support', () => n.customer('alice')],
    ['GET', `/v1/chats/${chatId}`, () => n.customer('alice')],
    ['GET', `/v1/chats/${chatId}/messages`, () => n.customer('bob')],
    ['POST', `/v1/chats/${chatId}/messages`, () => n.customer('bob'), { txnId: 'during-off', body: 'can you hear me?' }],
    ['POST', `/v1/chats/${chatId}/read`, () => n.customer('bob'), { messageId }],
    ['DELETE', `/v1/chats/${chatId}/messages/${encodeURIComponent(messageId)}`, () => n.customer('alice')],
    ['POST', `/v1/chats/${chatId}/attachments`, () => n.customer('alice'), { not: 'multipart' }],
    ['GET', `/v1/chats/${chatId}/media/${mediaId}`, () => n.customer('bob')],
    ['POST', '/v1/me/matrix-session', () => n.customer('alice')],
    ['GET', `/v1/networks/${n.net}/customers?q=a`, () => n.admin('ada')],
    ['GET', `/v1/networks/${n.net}/chats`, () => n.admin('ada')],
    ['POST', `/v1/networks/${n.net}/chats`, () => n.admin('ada'), { customerId: 'bob' }],
    ['GET', `/v1/networks/${n.net}/notifications`, () => n.admin('ada')],
    ['POST', `/v1/networks/${n.net}/notifications/read`, () => n.admin('ada'), { all: true }],
  ];

  test('with chats off, every chat route answers chats_disabled and the Chats icon is hidden', async () => {
    const off = await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), { chatsEnabled: false });
    expect(off.body.chatsEnabled).toBe(false);
    for (const [method, path, tok, body] of chatCalls()) {
      const res = await s.api(method, path, tok(), body);
      expect({ call: `${method} ${path}`, status: res.status, code: res.body?.error?.code }).toEqual({
        call: `${method} ${path}`,
        status: 403,
        code: 'chats_disabled',
      });
    }
    for (const tok of [n.customer('alice'), n.admin('ada')]) {
      expect((await s.api('GET', '/v1/me/features', tok)).body.chats).toBe(false);
    }
    // The administrator can still reach the settings to turn chats back on.
    expect((await s.api('GET', `/v1/networks/${n.net}/settings`, n.admin('ada'))).status).toBe(200);
    // Matrix clients cannot send either: the rooms became read-only.
    const { matrix, virtualUsers } = s.all.appservice.services;
    const bobId = virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'bob' });
    const roomId = (await ConversationModel.findById(chatId).lean())!.roomId!;
    const refusal = await eventually('the room to turn read-only', async () => {
      try {
        await matrix.sendEvent(roomId, 'm.room.message', `off-${Date.now()}`, { msgtype: 'm.text', body: 'from Element while off' }, bobId);
        return null;
      } catch (err) {
        return err as MatrixError;
      }
    }, 60000);
    expect(refusal.errcode).toBe('M_FORBIDDEN');
  });

  test('turning chats back on restores the conversation as it was', async () => {
    const on = await s.api('PUT', `/v1/ops/networks/${n.net}/chats`, s.token('operator', 'ops'), { enabled: true });
    expect(on.body).toMatchObject({ networkId: n.net, chatsEnabled: true });
    expect((await s.api('GET', '/v1/me/features', n.customer('bob'))).body.chats).toBe(true);
    const history = await s.api('GET', `/v1/chats/${chatId}/messages`, n.customer('bob'));
    expect(history.body.messages.map((m: { body: string }) => m.body)).toEqual(['a.pdf', 'before the switch']);
    // At once, without waiting for the queued fan-out to reach the room.
    const reply = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('bob'), { txnId: 'after-on', body: 'back again' });
    expect({ status: reply.status, chatId: reply.body.chatId }).toEqual({ status: 201, chatId });
  });

  test('a send in a room the fan-out has not restored yet restores it and goes through', async () => {
    const { matrix } = s.all.appservice.services;
    const roomId = (await ConversationModel.findById(chatId).lean())!.roomId!;
    const before = await matrix.getState(roomId, 'm.room.power_levels');
    expect((await s.api('PATCH', `/v1/networks/${n.net}/settings`, n.admin('ada'), { chatsEnabled: false })).status).toBe(200);
    await eventually('the room to turn read-only', async () => (await SavedPowerLevelsModel.exists({ _id: roomId })) !== null, 60000);
    await eventually('the read-only power levels', async () => !isDeepStrictEqual(await matrix.getState(roomId, 'm.room.power_levels'), before), 60000);
    // The flag alone, as if the fan-out were still queued behind other networks' work.
    await setChatsEnabled(n.net, true);
    const reply = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: 'before-fan-out', body: 'first one back' });
    expect(reply.status).toBe(201);
    expect(await matrix.getState(roomId, 'm.room.power_levels')).toEqual(before);
    expect(await SavedPowerLevelsModel.exists({ _id: roomId })).toBeNull();
  });

  test("another network's customers and administrators do not find this network's chats or media", async () => {
    const { matrix, virtualUsers } = s.all.appservice.services;
    const roomId = (await ConversationModel.findById(chatId).lean())!.roomId!;
    const bobId = virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'bob' });
    const members = async () =>
      Object.keys((await matrix.request<{ joined: Record<string, unknown> }>('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`, { asUser: bobId })).joined).sort();
    /** The room's messages on Synapse, newest first, as a participant's Matrix client sees them. */
    const roomMessages = async () =>
      (await matrix.messages(roomId, bobId, { limit: 100, dir: 'b', filter: { types: ['m.room.message'] } })).chunk.map((e) => ({ id: e.event_id, sender: e.sender, body: e.content?.body }));
    const membersBefore = await members();
    const messagesBefore = await roomMessages();
    const other = await createNetwork(s, { customers: { alice: { displayName: 'Other Alice' } }, admins: { ada: 'Other Ada' } });
    for (const tok of [other.customer('alice'), other.admin('ada')]) {
      for (const path of [`/v1/chats/${chatId}`, `/v1/chats/${chatId}/messages`, `/v1/chats/${chatId}/media/${mediaId}`]) {
        const res = await s.api('GET', path, tok);
        expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 404, code: 'not_found' });
      }
      const send = await s.api('POST', `/v1/chats/${chatId}/messages`, tok, { txnId: 'intruder', body: 'hello?' });
      expect(send.status).toBe(404);
    }
    // Nothing was sent and nobody entered the room: Synapse's room is as it was.
    expect(await roomMessages()).toEqual(messagesBefore);
    expect(await members()).toEqual(membersBefore);
  });
});
