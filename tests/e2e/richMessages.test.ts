import * as sdk from 'matrix-js-sdk';
import { AppserviceTransactionModel, MessageReactionModel, ProcessedEventModel } from '../../store';
import { startServices, eventually, type TestServices } from '../support/harness';
import { createNetwork, type NetworkFixture } from './networkFixture';
import { UnsentRelations } from '../../appservice/domain/unsentRelations';
import { createRootLogger } from '../../runtime';

/**
 * Rich messages, portal ⇄ Matrix (API.md › Rich messages): edits (m.replace), replies
 * (m.in_reply_to) and reactions (m.annotation) from the portal are what a matrix-js-sdk client
 * sees, and a matrix-js-sdk client's are what the portal shows; an unsent message takes its edits
 * and reactions with it; the index applies only redactions Synapse applies.
 */

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

interface Message {
  id: string;
  body: string;
  type: string;
  sender: { kind: string; id: string | null };
  editedAt?: string;
  replyTo?: { id: string; sender: { kind: string; id: string | null } | null; bodyPreview: string | null };
  reactions: Array<{ key: string; count: number; mine: boolean }>;
}

interface Chat {
  id: string;
  lastActivityAt: string;
  lastMessage: { id: string; body: string; sentAt: string } | null;
  unreadCount: number;
}

describe('rich messages: edits, replies and reactions, portal and Matrix alike', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let chatId: string;
  let roomId: string;
  let supportChatId: string;
  let supportRoomId: string;
  const clients: Record<string, { client: sdk.MatrixClient; userId: string }> = {};

  async function matrixLogin(token: string) {
    const session = await s.api('POST', '/v1/me/matrix-session', token);
    expect(session.status).toBe(200);
    const { homeserverUrl, userId, accessToken, deviceId } = session.body;
    return { client: sdk.createClient({ baseUrl: homeserverUrl, userId, accessToken, deviceId }), userId: userId as string };
  }

  beforeAll(async () => {
    s = await startServices();
    n = await createNetwork(s, {
      customers: { alice: { displayName: 'Alice Andersen' }, bob: { displayName: 'Bob Bauer' } },
      admins: { ada: 'Ada Admin' },
    });
    const chat = await s.api('POST', '/v1/chats', n.customer('alice'), { userId: 'bob' });
    expect(chat.status).toBe(200);
    chatId = chat.body.id;
    roomId = chat.body.matrixRoomId;
    const support = await s.api('POST', '/v1/chats/support', n.customer('alice'));
    supportChatId = support.body.id;
    supportRoomId = support.body.matrixRoomId;
    // The administrator's virtual user joins the support room on first use.
    expect((await s.api('GET', `/v1/chats/${supportChatId}/messages`, n.admin('ada'))).status).toBe(200);
    clients.alice = await matrixLogin(n.customer('alice'));
    clients.bob = await matrixLogin(n.customer('bob'));
    clients.ada = await matrixLogin(n.admin('ada'));
  });
  afterAll(async () => {
    for (const c of Object.values(clients)) c.client.stopClient();
    await s?.stop();
  });

  const send = async (who: string, body: string, extra: Record<string, unknown> = {}, chat = chatId) => {
    const res = await s.api('POST', `/v1/chats/${chat}/messages`, who === 'ada' ? n.admin('ada') : n.customer(who), { txnId: `t-${Math.random().toString(36).slice(2)}`, body, ...extra });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const history = async (who: string, chat = chatId): Promise<Message[]> => {
    const res = await s.api('GET', `/v1/chats/${chat}/messages?limit=100`, who === 'ada' ? n.admin('ada') : n.customer(who));
    expect(res.status).toBe(200);
    return res.body.messages;
  };
  const chatOf = async (who: string, chat = chatId): Promise<Chat> => {
    const res = await s.api('GET', '/v1/chats', n.customer(who));
    return res.body.chats.find((c: Chat) => c.id === chat);
  };
  /** Waits until the appservice has applied an event (the index follows Synapse's pushes). */
  const applied = (eventId: string) => eventually(`the appservice to apply ${eventId}`, async () => (await ProcessedEventModel.exists({ _id: eventId })) !== null);
  const msgPath = (id: string, chat = chatId) => `/v1/chats/${chat}/messages/${encodeURIComponent(id)}`;
  const reactionPath = (id: string, key: string) => `${msgPath(id)}/reactions/${encodeURIComponent(key)}`;
  const edit = (client: sdk.MatrixClient, target: string, body: string, room = roomId) =>
    client.sendEvent(room, 'm.room.message' as any, {
      msgtype: 'm.text',
      body: `* ${body}`,
      'm.new_content': { msgtype: 'm.text', body },
      'm.relates_to': { rel_type: 'm.replace', event_id: target },
    } as any);
  const react = (client: sdk.MatrixClient, target: string, key: string, room = roomId) =>
    client.sendEvent(room, 'm.reaction' as any, { 'm.relates_to': { rel_type: 'm.annotation', event_id: target, key } } as any);
  const relations = async (client: sdk.MatrixClient, target: string, relType: string, room = roomId) =>
    (await client.fetchRelations(room, target, relType, null)).chunk as Array<{ event_id: string; sender: string; content: any; unsigned?: any }>;

  test("a portal edit is an m.replace a Matrix client sees; history shows the message once, in its newest version", async () => {
    const id = await send('alice', 'see you at 10');
    const res = await s.api('PATCH', msgPath(id), n.customer('alice'), { body: 'see you at 11' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, body: 'see you at 11', type: 'text', reactions: [] });
    expect(typeof res.body.editedAt).toBe('string');

    const seen = await clients.bob!.client.fetchRoomEvent(roomId, id);
    const bundled = (seen.unsigned as any)?.['m.relations']?.['m.replace'];
    expect(bundled?.content?.['m.new_content']).toEqual({ msgtype: 'm.text', body: 'see you at 11' });
    expect(bundled?.sender).toBe(clients.alice!.userId);

    const shown = (await history('bob')).filter((m) => m.body.includes('see you at'));
    expect(shown.map((m) => ({ id: m.id, body: m.body, edited: Boolean(m.editedAt) }))).toEqual([{ id, body: 'see you at 11', edited: true }]);

    // The same edit again (a retried PATCH) makes no second m.replace.
    const again = await s.api('PATCH', msgPath(id), n.customer('alice'), { body: 'see you at 11' });
    expect(again.status).toBe(200);
    expect(again.body.editedAt).toBe(res.body.editedAt);
    expect((await relations(clients.bob!.client, id, 'm.replace')).length).toBe(1);

    // Concurrent duplicates of one new edit are one m.replace too; editing back to an earlier text is a new edit.
    const concurrent = await Promise.all([1, 2, 3].map(() => s.api('PATCH', msgPath(id), n.customer('alice'), { body: 'see you at noon' })));
    expect(concurrent.map((r) => [r.status, r.body.body])).toEqual([1, 2, 3].map(() => [200, 'see you at noon']));
    expect((await relations(clients.bob!.client, id, 'm.replace')).length).toBe(2);
    expect((await s.api('PATCH', msgPath(id), n.customer('alice'), { body: 'see you at 11' })).body.body).toBe('see you at 11');
    expect((await relations(clients.bob!.client, id, 'm.replace')).length).toBe(3);
    expect((await history('bob')).find((m) => m.id === id)?.body).toBe('see you at 11');
  });

  test("another person's message is 403; an attachment, an unsent or unknown message and bad text are refused, and nothing changes", async () => {
    const id = await send('alice', 'mine alone');
    const other = await s.api('PATCH', msgPath(id), n.customer('bob'), { body: 'hijacked' });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('forbidden');

    for (const body of [{ body: '' }, { body: '   ' }, { body: 'bell \u0007' }, { body: 'x'.repeat(20001) }, {}, { body: 'ok', extra: 1 }]) {
      const bad = await s.api('PATCH', msgPath(id), n.customer('alice'), body);
      expect({ body, status: bad.status, code: bad.body.error?.code }).toEqual({ body, status: 400, code: 'invalid_request' });
    }
    expect((await s.api('PATCH', msgPath('not-an-id'), n.customer('alice'), { body: 'x' })).status).toBe(400);
    expect((await s.api('PATCH', msgPath('$unknownEvent123'), n.customer('alice'), { body: 'x' })).status).toBe(404);

    const form = new FormData();
    form.append('txnId', 'pixel-1');
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'pixel.png');
    const upload = await fetch(`${s.baseUrl}/v1/chats/${chatId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${n.customer('alice')}` }, body: form });
    expect(upload.status).toBe(201);
    const file = (await upload.json()) as { id: string };
    const fileEdit = await s.api('PATCH', msgPath(file.id), n.customer('alice'), { body: 'renamed.png' });
    expect({ status: fileEdit.status, field: fileEdit.body.error?.field }).toEqual({ status: 400, field: 'messageId' });

    const gone = await send('alice', 'about to vanish');
    expect((await s.api('DELETE', msgPath(gone), n.customer('alice'))).status).toBe(204);
    expect((await s.api('PATCH', msgPath(gone), n.customer('alice'), { body: 'back?' })).status).toBe(404);

    expect((await relations(clients.alice!.client, id, 'm.replace')).length).toBe(0);
    expect((await relations(clients.alice!.client, file.id, 'm.replace')).length).toBe(0);
    expect((await history('bob')).find((m) => m.id === id)).toMatchObject({ body: 'mine alone' });
    expect((await history('bob')).find((m) => m.id === id)?.editedAt).toBeUndefined();
  });

  test("a Matrix client's edit is the message's newest version in the portal, once; someone else's edit is ignored", async () => {
    const { event_id: id } = await clients.alice!.client.sendMessage(roomId, { msgtype: 'm.text', body: 'first draft' } as any);
    const { event_id: own } = await edit(clients.alice!.client, id, 'final text');
    // Synapse accepts any participant's m.replace; only the sender's counts.
    const { event_id: forged } = await edit(clients.bob!.client, id, 'bob was here');
    await applied(forged);

    const shown = (await history('bob')).filter((m) => /first draft|final text|bob was here/.test(m.body));
    expect(shown.map((m) => ({ id: m.id, body: m.body, edited: Boolean(m.editedAt) }))).toEqual([{ id, body: 'final text', edited: true }]);
    expect((await history('alice')).some((m) => m.id === own || m.id === forged)).toBe(false);
    // The preview follows the sender's edit of the last message, not the forged one.
    expect((await chatOf('alice')).lastMessage).toMatchObject({ id, body: 'final text' });

    // The sender takes the edit back: the message shows its first version again, everywhere.
    const { event_id: undo } = await clients.alice!.client.redactEvent(roomId, own);
    await applied(undo);
    const reverted = (await history('bob')).find((m) => m.id === id);
    expect({ body: reverted?.body, editedAt: reverted?.editedAt }).toEqual({ body: 'first draft', editedAt: undefined });
    expect((await chatOf('alice')).lastMessage).toMatchObject({ id, body: 'first draft' });
  });

  test('an edit is no new unread message and no new preview entry; the preview follows an edit of the last message only', async () => {
    const older = await send('alice', 'agenda: one');
    const last = await send('alice', 'see the agenda');
    await applied(last);
    const before = await chatOf('bob');
    expect(before.lastMessage).toMatchObject({ id: last, body: 'see the agenda' });

    const { event_id: olderEdit } = await edit(clients.alice!.client, older, 'agenda: one, two');
    await applied(olderEdit);
    const afterOlder = await chatOf('bob');
    expect(afterOlder.unreadCount).toBe(before.unreadCount);
    expect(afterOlder.lastMessage).toEqual(before.lastMessage);
    expect(afterOlder.lastActivityAt).toBe(before.lastActivityAt);

    const patched = await s.api('PATCH', msgPath(last), n.customer('alice'), { body: 'see the new agenda' });
    expect(patched.status).toBe(200);
    const afterLast = await eventually('the preview to show the edit', async () => {
      const c = await chatOf('bob');
      return c.lastMessage?.body === 'see the new agenda' ? c : null;
    });
    expect(afterLast.unreadCount).toBe(before.unreadCount);
    expect(afterLast.lastMessage).toEqual({ ...before.lastMessage, body: 'see the new agenda' });
    expect(afterLast.lastActivityAt).toBe(before.lastActivityAt);

    // In a support chat, a customer's edit notifies no administrator again.
    const question = await send('alice', 'is the cafe open?', {}, supportChatId);
    await applied(question);
    const notifications = async () => (await s.api('GET', `/v1/networks/${n.net}/notifications`, n.admin('ada'))).body;
    const count = (await notifications()).notifications.length;
    const { event_id: supportEdit } = await edit(clients.alice!.client, question, 'is the cafe open on Sunday?', supportRoomId);
    await applied(supportEdit);
    const listed = (await notifications()).notifications as Array<{ messageId: string; preview: string | null }>;
    expect(listed.length).toBe(count);
    // The notification about it shows the new text.
    expect(listed.filter((x) => x.messageId === question).map((x) => x.preview)).toEqual(['is the cafe open on Sunday?']);
    const inbox = await s.api('GET', `/v1/networks/${n.net}/chats`, n.admin('ada'));
    expect(inbox.body.chats.find((c: Chat) => c.id === supportChatId)).toMatchObject({ unreadCount: 1, lastMessage: { id: question, body: 'is the cafe open on Sunday?' } });
  });

  test("a portal reply keeps its relation in Matrix; a Matrix client's reply shows what it answers, without the quoted fallback", async () => {
    const question = await send('bob', 'lunch at noon?');
    const replyId = await send('alice', 'yes, noon works', { replyTo: question });
    const seen = await clients.bob!.client.fetchRoomEvent(roomId, replyId);
    expect((seen.content as any)['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: question } });
    await applied(replyId);
    const shown = (await history('bob')).find((m) => m.id === replyId);
    expect(shown).toMatchObject({ body: 'yes, noon works', replyTo: { id: question, sender: { kind: 'customer', id: 'bob' }, bodyPreview: 'lunch at noon?' } });

    const { event_id: matrixReply } = await clients.bob!.client.sendMessage(roomId, {
      msgtype: 'm.text',
      body: `> <${clients.alice!.userId}> yes, noon works\n\ngreat, see you`,
      'm.relates_to': { 'm.in_reply_to': { event_id: replyId } },
    } as any);
    await applied(matrixReply);
    expect((await history('alice')).find((m) => m.id === matrixReply)).toMatchObject({
      body: 'great, see you',
      replyTo: { id: replyId, sender: { kind: 'customer', id: 'alice' }, bodyPreview: 'yes, noon works' },
    });
    expect((await chatOf('alice')).lastMessage).toMatchObject({ id: matrixReply, body: 'great, see you' });
  });

  test('an administrator edits, replies and reacts in a support chat like a customer', async () => {
    const question = await send('alice', 'can I bring a guest?', {}, supportChatId);
    const answer = await send('ada', 'yes, up to two', { replyTo: question }, supportChatId);
    const edited = await s.api('PATCH', msgPath(answer, supportChatId), n.admin('ada'), { body: 'yes, up to three' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ body: 'yes, up to three', sender: { kind: 'admin', id: 'ada' }, replyTo: { id: question, bodyPreview: 'can I bring a guest?' } });
    expect((await s.api('PUT', `${msgPath(question, supportChatId)}/reactions/${encodeURIComponent('✅')}`, n.admin('ada'))).status).toBe(204);
    // The customer cannot edit the administrator's answer.
    expect((await s.api('PATCH', msgPath(answer, supportChatId), n.customer('alice'), { body: 'yes, any number' })).status).toBe(403);
    const shown = await eventually('the reaction in the customer\'s history', async () => {
      const h = await history('alice', supportChatId);
      return h.find((m) => m.id === question)?.reactions.length ? h : null;
    });
    expect(shown.find((m) => m.id === question)?.reactions).toEqual([{ key: '✅', count: 1, mine: false }]);
    expect(shown.find((m) => m.id === answer)).toMatchObject({ body: 'yes, up to three', replyTo: { id: question, sender: { kind: 'customer', id: 'alice' } } });
  });

  test('a reply to a message of another conversation, an unknown or malformed id is refused and sends nothing', async () => {
    const elsewhere = await send('alice', 'in the support chat', {}, supportChatId);
    const before = (await history('alice')).length;
    for (const replyTo of [elsewhere, '$unknownEvent123', 'not-an-id']) {
      const res = await s.api('POST', `/v1/chats/${chatId}/messages`, n.customer('alice'), { txnId: `r-${replyTo.length}`, body: 'answer', replyTo });
      expect({ replyTo, status: res.status, field: res.body.error?.field }).toEqual({ replyTo, status: 400, field: 'replyTo' });
    }
    expect((await history('alice')).length).toBe(before);
  });

  test('reactions both ways: aggregated per key with mine; adding twice is one reaction; removing redacts it', async () => {
    const id = await send('alice', 'new coffee machine is in');
    await applied(id);
    expect((await s.api('PUT', reactionPath(id, '👍'), n.customer('bob'))).status).toBe(204);
    expect((await s.api('PUT', reactionPath(id, '👍'), n.customer('bob'))).status).toBe(204);
    const annotations = await relations(clients.alice!.client, id, 'm.annotation');
    expect(annotations.map((e) => ({ sender: e.sender, key: e.content['m.relates_to'].key }))).toEqual([{ sender: clients.bob!.userId, key: '👍' }]);

    const { event_id: party } = await react(clients.alice!.client, id, '🎉');
    await applied(party);
    await applied(annotations[0]!.event_id);
    expect((await history('bob')).find((m) => m.id === id)?.reactions).toEqual([
      { key: '👍', count: 1, mine: true },
      { key: '🎉', count: 1, mine: false },
    ]);
    // A Matrix client's read receipt on the newest event, here a reaction, reads the conversation.
    expect((await chatOf('bob')).unreadCount).toBeGreaterThan(0);
    await (clients.bob!.client as any).http.authedRequest('POST', `/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(party)}`, undefined, {});
    await eventually('the receipt on a reaction to clear the unread count', async () => (await chatOf('bob')).unreadCount === 0);

    expect((await s.api('PUT', reactionPath(id, '🎉'), n.customer('bob'))).status).toBe(204);
    const both = await eventually('both reactions with 🎉', async () => {
      const r = (await history('alice')).find((m) => m.id === id)?.reactions;
      return r?.find((x) => x.key === '🎉')?.count === 2 ? r : null;
    });
    expect(both).toEqual([
      { key: '👍', count: 1, mine: false },
      { key: '🎉', count: 2, mine: true },
    ]);

    expect((await s.api('DELETE', reactionPath(id, '👍'), n.customer('bob'))).status).toBe(204);
    expect((await s.api('DELETE', reactionPath(id, '👍'), n.customer('bob'))).status).toBe(204);
    const left = await relations(clients.alice!.client, id, 'm.annotation');
    expect(left.map((e) => e.content['m.relates_to'].key).sort()).toEqual(['🎉', '🎉']);
    await eventually('the removed reaction to leave the history', async () => {
      const r = (await history('bob')).find((m) => m.id === id)?.reactions;
      return JSON.stringify(r) === JSON.stringify([{ key: '🎉', count: 2, mine: true }]);
    });
  });

  test('the same reaction added concurrently is one reaction', async () => {
    const id = await send('alice', 'vote here');
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => s.api('PUT', reactionPath(id, '🙌'), n.customer('bob'))));
    expect(results.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
    expect((await relations(clients.alice!.client, id, 'm.annotation')).length).toBe(1);
  });

  test('reaction keys: one emoji or at most 16 characters, else 400; unknown messages 404', async () => {
    const id = await send('alice', 'keys');
    for (const key of ['👩‍👩‍👧‍👦', '🇪🇺', 'sixteen chars!!!', '+1']) {
      expect({ key, status: (await s.api('PUT', reactionPath(id, key), n.customer('bob'))).status }).toEqual({ key, status: 204 });
    }
    for (const key of ['seventeen chars!!', ' padded', 'tab\tkey', '\u200b', 'x'.repeat(300)]) {
      const res = await s.api('PUT', reactionPath(id, key), n.customer('bob'));
      expect({ key, status: res.status, field: res.body.error?.field }).toEqual({ key, status: 400, field: 'key' });
    }
    expect((await s.api('PUT', reactionPath('$unknownEvent123', '👍'), n.customer('bob'))).status).toBe(404);
    const keys = (await relations(clients.alice!.client, id, 'm.annotation')).map((e) => e.content['m.relates_to'].key).sort();
    expect(keys).toEqual(['+1', '👩‍👩‍👧‍👦', '🇪🇺', 'sixteen chars!!!'].sort());
  });

  test('unsend takes edits and reactions with it, in the portal and in Matrix (portal unsend and Matrix-client unsend)', async () => {
    const id = await send('alice', 'draft to withdraw');
    expect((await s.api('PATCH', msgPath(id), n.customer('alice'), { body: 'draft to withdraw, edited' })).status).toBe(200);
    expect((await s.api('PUT', reactionPath(id, '👀'), n.customer('bob'))).status).toBe(204);
    const { event_id: ownReaction } = await react(clients.alice!.client, id, '✅');
    await applied(ownReaction);
    const related = [...(await relations(clients.bob!.client, id, 'm.replace')), ...(await relations(clients.bob!.client, id, 'm.annotation'))].map((e) => e.event_id);
    expect(related).toHaveLength(3);

    expect((await s.api('DELETE', msgPath(id), n.customer('alice'))).status).toBe(204);
    expect((await history('bob')).some((m) => m.id === id || /draft to withdraw/.test(m.body))).toBe(false);
    for (const eventId of related) {
      await eventually(`${eventId} to be redacted`, async () => Boolean((await clients.bob!.client.fetchRoomEvent(roomId, eventId)).unsigned?.redacted_because));
    }
    expect(await MessageReactionModel.countDocuments({ messageId: id })).toBe(0);

    // A Matrix client's unsend does the same.
    const { event_id: mx } = await clients.alice!.client.sendMessage(roomId, { msgtype: 'm.text', body: 'matrix side draft' } as any);
    const { event_id: mxEdit } = await edit(clients.alice!.client, mx, 'matrix side draft, edited');
    const { event_id: mxReaction } = await react(clients.bob!.client, mx, '👍');
    await applied(mxReaction);
    await clients.alice!.client.redactEvent(roomId, mx);
    for (const eventId of [mxEdit, mxReaction]) {
      await eventually(`${eventId} to be redacted`, async () => Boolean((await clients.alice!.client.fetchRoomEvent(roomId, eventId)).unsigned?.redacted_because));
    }
    expect((await history('bob')).some((m) => /matrix side draft/.test(m.body))).toBe(false);
  });

  test('forged redactions remove nothing from the index; a power-levelled administrator\u2019s redaction does', async () => {
    const victim = await send('bob', 'keep this one');
    await applied(victim);
    const preview = async () => (await chatOf('alice')).lastMessage;
    expect(await preview()).toMatchObject({ id: victim });

    // Synapse refuses a participant's redaction of someone else's message, and one naming another room's event.
    await expect(clients.alice!.client.redactEvent(roomId, victim)).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });
    const supportMessage = await send('alice', 'support side', {}, supportChatId);
    await expect(
      (clients.alice!.client as any).http.authedRequest('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.redaction/forge-1`, undefined, { redacts: supportMessage }),
    ).rejects.toMatchObject({ httpStatus: 400 });

    // A room of her own (where a forged redaction could have named bob's message) carries nothing
    // since the homeserver asks the service first: messages there are refused up front.
    const { room_id: ownRoom } = await clients.alice!.client.createRoom({ room_version: '10', preset: sdk.Preset.PrivateChat } as any);
    await expect(clients.alice!.client.sendMessage(ownRoom, { msgtype: 'm.text', body: 'decoy' } as any)).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });

    expect((await history('alice')).some((m) => m.id === victim)).toBe(true);
    expect(await preview()).toMatchObject({ id: victim, body: 'keep this one' });

    // A power-levelled administrator may redact others' messages, and Synapse applies it: so does the index.
    const question = await send('alice', 'please delete this', {}, supportChatId);
    await applied(question);
    const matrix = s.all.appservice.services.matrix;
    const levels = (await matrix.getState<Record<string, any>>(supportRoomId, 'm.room.power_levels'))!;
    await matrix.putState(supportRoomId, 'm.room.power_levels', '', { ...levels, users: { ...levels.users, [clients.ada!.userId]: 100 } });
    const { event_id: moderation } = await clients.ada!.client.redactEvent(supportRoomId, question);
    await applied(moderation);
    const inbox = await s.api('GET', `/v1/networks/${n.net}/chats`, n.admin('ada'));
    expect(inbox.body.chats.find((c: Chat) => c.id === supportChatId).lastMessage?.id).not.toBe(question);
    expect((await history('alice', supportChatId)).some((m) => m.id === question)).toBe(false);
  });

  test("the relations of an unsent message Synapse does not know (404 Unknown parent event) are none, not a stalled transaction", async () => {
    const relations = new UnsentRelations(s.all.appservice.services.matrix, createRootLogger('silent', 'test'));
    // Synapse answers the relations of an unknown event with 404; before, that failed the whole transaction.
    await expect(relations.redactRelationsOf(roomId, '$not-an-event-synapse-knows', [])).resolves.toBe(0);
  });
});
