import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createRootLogger } from '../../runtime/logger';
import { startPortalApi, type PortalApiHandle } from '../../portal-api/start';
import { startProvisioningWorker, type ProvisioningWorkerHandle } from '../../provisioning/start';
import { callApi, eventually, testConfig, uniqueId } from '../support/harness';
import { mintToken } from '../../portal-api/auth';
import { AppserviceTransactionModel, ConversationModel, IndexedMessageModel, SupportInboxHeadModel } from '../../store';
import { startWebhookReceiver, untilWebhooksQuiet, type WebhookReceiver } from '../support/webhooks';

const ROOT = join(__dirname, '..', '..');
const MESSAGES = 300;

/**
 * The appservice as its own process, so it can be SIGKILLed like a crashed server. TypeScript is
 * loaded in-process (`node --import tsx`): the pid is the server itself, not a wrapper.
 */
function spawnAppservice(): ChildProcess {
  return spawn(join(ROOT, 'node_modules', '.bin', 'node'), ['--import', 'tsx', 'bin/server.ts', 'appservice'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitForListener(url: string): Promise<void> {
  await eventually('the appservice to listen', async () => {
    const res = await fetch(`${url}/_matrix/app/v1/ping`, { method: 'POST', body: '{}' }).catch(() => null);
    return res !== null;
  });
}

describe('the appservice killed while Synapse is pushing', () => {
  let portal: PortalApiHandle;
  let worker: ProvisioningWorkerHandle;
  let appservice: ChildProcess | undefined;
  let webhook: WebhookReceiver | undefined;

  afterAll(async () => {
    // Wait for the child to be gone: the next test file listens on the same appservice port.
    if (appservice && appservice.exitCode === null && appservice.signalCode === null) {
      const exited = new Promise((resolve) => appservice!.once('exit', resolve));
      appservice.kill('SIGKILL');
      await exited;
    }
    await portal?.stop();
    await worker?.stop();
    await webhook?.close();
  });

  test('after a restart every event is applied exactly once, and a processed transaction pushed again moves nothing', async () => {
    webhook = await startWebhookReceiver();
    // The receiver runs on loopback, which webhooks may only reach when the operator allows it.
    const config = testConfig({ WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' });
    const log = createRootLogger('warn', 'crash-test');
    appservice = spawnAppservice();
    await waitForListener(config.appservice.url);
    [portal, worker] = await Promise.all([startPortalApi(config, { log }), startProvisioningWorker(config, { log })]);
    const token = (role: 'service' | 'customer' | 'admin', sub: string, net: string) =>
      mintToken({ secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience }, { role, sub, net });
    const api = (method: string, path: string, tok: string, body?: unknown) => callApi(portal.url, method, path, tok, body);

    const net = uniqueId('crash');
    const service = token('service', 'host', net);
    await api('PUT', `/v1/networks/${net}`, service, { name: 'Crash' });
    for (const id of ['alice', 'bob']) {
      await api('PUT', `/v1/networks/${net}/customers/${id}`, service, { kind: 'member', displayName: id, locationIds: [], hideNameOnBookings: false, status: 'active' });
    }
    await api('PUT', `/v1/networks/${net}/admins/ada`, service, { displayName: 'Ada Admin' });
    const ada = token('admin', 'ada', net);
    expect((await api('PATCH', `/v1/networks/${net}/settings`, ada, { notifications: { webhookUrl: webhook.url, webhookSecret: 'whsec-crash-test' } })).status).toBe(200);
    const chat = (await api('POST', '/v1/chats', token('customer', 'alice', net), { userId: 'bob' })).body;
    expect(chat.matrixRoomId).toMatch(/^!/);
    // Bob's support conversation: each of his messages there is a notification and a webhook.
    const support = (await api('POST', '/v1/chats/support', token('customer', 'bob', net))).body;
    expect(support.matrixRoomId).toMatch(/^!/);
    const session = (await api('POST', '/v1/me/matrix-session', token('customer', 'bob', net))).body;
    const clientSend = async (roomId: string, txnId: string, body: string) => {
      const res = await fetch(`${session.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ msgtype: 'm.text', body }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { event_id: string }).event_id;
    };

    // Bob's Matrix client sends to Alice and to support; halfway through, the appservice dies
    // without warning.
    const sent: string[] = [];
    const sentToSupport: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      if (i === MESSAGES / 2) {
        const exited = new Promise((resolve) => appservice!.once('exit', resolve));
        appservice.kill('SIGKILL');
        await exited;
      }
      sent.push(await clientSend(chat.matrixRoomId, `crash-${i}`, `message ${i}`));
      sentToSupport.push(await clientSend(support.matrixRoomId, `crash-s-${i}`, `support message ${i}`));
    }
    expect(new Set(sent).size).toBe(MESSAGES);
    expect(new Set(sentToSupport).size).toBe(MESSAGES);

    // Restarted, it pings Synapse, which re-sends what it could not deliver.
    appservice = spawnAppservice();
    await waitForListener(config.appservice.url);
    const indexed = await eventually(
      'every message in the index',
      async () => {
        const n = await IndexedMessageModel.countDocuments({ chatId: chat.id });
        return n >= MESSAGES ? n : null;
      },
      180000,
    );
    expect(indexed).toBe(MESSAGES);
    const ids = (await IndexedMessageModel.find({ chatId: chat.id }).select({ _id: 1 }).lean()).map((d) => String(d._id));
    expect(ids.sort()).toEqual([...sent].sort());
    // And the preview shows the last one.
    const list = await api('GET', '/v1/chats', token('customer', 'alice', net));
    expect(list.body.chats.find((c: { id: string }) => c.id === chat.id).lastMessage.body).toBe(`message ${MESSAGES - 1}`);

    // The support conversation: every message indexed, notified and delivered once.
    await eventually('every support message in the index', async () => (await IndexedMessageModel.countDocuments({ chatId: support.id })) >= MESSAGES, 180000);
    const supportIds = (await IndexedMessageModel.find({ chatId: support.id }).select({ _id: 1 }).lean()).map((d) => String(d._id));
    expect(supportIds.sort()).toEqual([...sentToSupport].sort());
    await eventually('a notification per support message', async () => (await api('GET', `/v1/networks/${net}/notifications`, ada)).body.unreadCount >= MESSAGES, 60000);
    expect((await api('GET', `/v1/networks/${net}/notifications`, ada)).body.unreadCount).toBe(MESSAGES);
    await untilWebhooksQuiet(config.redisUrl, net, MESSAGES, webhook);
    expect(webhook.successesPerMessage()).toEqual(Object.fromEntries(sentToSupport.map((id) => [id, 1])));

    // Unread counts below the cap: Alice reads up to her 20th-newest message, Ada up to the 10th.
    expect((await api('POST', `/v1/chats/${chat.id}/read`, token('customer', 'alice', net), { messageId: sent[MESSAGES - 21] })).status).toBe(200);
    expect((await api('POST', `/v1/chats/${support.id}/read`, ada, { messageId: sentToSupport[MESSAGES - 11] })).status).toBe(200);

    /** What a re-applied event could move: unread counts, previews, the inbox head, notifications, webhooks. */
    const snapshot = async () => {
      const mine = (await api('GET', '/v1/chats', token('customer', 'alice', net))).body.chats.find((c: { id: string }) => c.id === chat.id);
      const inbox = (await api('GET', `/v1/networks/${net}/chats`, ada)).body.chats;
      const notifications = (await api('GET', `/v1/networks/${net}/notifications`, ada)).body.unreadCount;
      const head = await SupportInboxHeadModel.findById(net).lean();
      const revisions = await Promise.all([chat.id, support.id].map(async (id) => (await ConversationModel.findById(id).lean())?.revision));
      return {
        alice: { unread: mine.unreadCount, last: mine.lastMessage?.id },
        inbox: inbox.map((c: { id: string; unreadCount: number; lastMessage: { id: string } | null }) => ({ id: c.id, unread: c.unreadCount, last: c.lastMessage?.id })),
        notifications,
        head: { version: head?.version, entries: head?.entries.map((e) => ({ chatId: e.chatId, at: new Date(e.at).toISOString() })) },
        revisions,
        webhooks: webhook!.successesPerMessage(),
      };
    };
    const before = await snapshot();
    expect(before).toMatchObject({
      alice: { unread: 20, last: sent[MESSAGES - 1] },
      inbox: [{ id: support.id, unread: 10, last: sentToSupport[MESSAGES - 1] }],
      // Reading the conversation settles the notifications of what was read.
      notifications: 10,
    });

    // Synapse pushes a processed transaction that carried messages of both conversations again:
    // under its own id, and its events under a new one.
    const carrying = await eventually('a processed transaction with a support message from before the crash', async () => {
      const txn = await AppserviceTransactionModel.findOne({ eventsJson: { $regex: sentToSupport[100]!.replace(/[$]/g, '\\$') } }).lean();
      return txn?.processedAt ? txn : null;
    });
    const hsToken = portal.deps.services.registration.hsToken;
    const push = (txnId: string, body: unknown) =>
      fetch(`${config.appservice.url}/_matrix/app/v1/transactions/${txnId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${hsToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const body = { events: JSON.parse(carrying.eventsJson), ephemeral: JSON.parse(carrying.ephemeralJson) };
    for (const txnId of [String(carrying._id), `t-again-${Date.now()}`]) expect((await push(txnId, body)).status).toBe(200);
    // Applied in arrival order: once an empty transaction pushed last is processed, so are both.
    const barrier = `t-barrier-${Date.now()}`;
    expect((await push(barrier, { events: [] })).status).toBe(200);
    await eventually('the re-pushes processed', async () => (await AppserviceTransactionModel.findById(barrier).lean())?.processedAt);
    await untilWebhooksQuiet(config.redisUrl, net, MESSAGES, webhook);
    expect(await snapshot()).toEqual(before);
  }, 300000);
});
