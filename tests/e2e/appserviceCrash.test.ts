import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createRootLogger } from '../../runtime/logger';
import { startPortalApi, type PortalApiHandle } from '../../portal-api/start';
import { startProvisioningWorker, type ProvisioningWorkerHandle } from '../../provisioning/start';
import { callApi, eventually, testConfig, uniqueId } from '../support/harness';
import { mintToken } from '../../portal-api/auth';
import { IndexedMessageModel } from '../../store';

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

  afterAll(async () => {
    // Wait for the child to be gone: the next test file listens on the same appservice port.
    if (appservice && appservice.exitCode === null && appservice.signalCode === null) {
      const exited = new Promise((resolve) => appservice!.once('exit', resolve));
      appservice.kill('SIGKILL');
      await exited;
    }
    await portal?.stop();
    await worker?.stop();
  });

  test('after a restart every event is in the index exactly once', async () => {
    const config = testConfig();
    const log = createRootLogger('warn', 'crash-test');
    appservice = spawnAppservice();
    await waitForListener(config.appservice.url);
    [portal, worker] = await Promise.all([startPortalApi(config, { log }), startProvisioningWorker(config, { log })]);
    const token = (role: 'service' | 'customer', sub: string, net: string) =>
      mintToken({ secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience }, { role, sub, net });
    const api = (method: string, path: string, tok: string, body?: unknown) => callApi(portal.url, method, path, tok, body);

    const net = uniqueId('crash');
    const service = token('service', 'host', net);
    await api('PUT', `/v1/networks/${net}`, service, { name: 'Crash' });
    for (const id of ['alice', 'bob']) {
      await api('PUT', `/v1/networks/${net}/customers/${id}`, service, { kind: 'member', displayName: id, locationIds: [], hideNameOnBookings: false, status: 'active' });
    }
    const chat = (await api('POST', '/v1/chats', token('customer', 'alice', net), { userId: 'bob' })).body;
    expect(chat.matrixRoomId).toMatch(/^!/);
    const session = (await api('POST', '/v1/me/matrix-session', token('customer', 'bob', net))).body;

    // Bob's Matrix client sends; halfway through, the appservice dies without warning.
    const sent: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      if (i === MESSAGES / 2) {
        const exited = new Promise((resolve) => appservice!.once('exit', resolve));
        appservice.kill('SIGKILL');
        await exited;
      }
      const res = await fetch(
        `${session.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(chat.matrixRoomId)}/send/m.room.message/crash-${i}`,
        { method: 'PUT', headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ msgtype: 'm.text', body: `message ${i}` }) },
      );
      expect(res.status).toBe(200);
      sent.push(((await res.json()) as { event_id: string }).event_id);
    }
    expect(new Set(sent).size).toBe(MESSAGES);

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
  }, 300000);
});
