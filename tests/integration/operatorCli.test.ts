import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startServices, uniqueId, type TestServices } from '../support/harness';
import { customerRows, provisioningEnv, waitForJob } from '../support/provisioningHelpers';
import { NetworkModel } from '../../store';

const PROJECT_ROOT = join(__dirname, '..', '..');

/** chatctl, run as an operator would: a separate process configured from the environment. */
function chatctl(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const { NODE_OPTIONS: _ignored, ...base } = process.env;
  return new Promise((resolve) => {
    const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'node'), ['--import', 'tsx', 'bin/chatctl.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...base, ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('chatctl operator commands', () => {
  let s: TestServices;
  const env = provisioningEnv();

  beforeAll(async () => {
    s = await startServices(env);
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('health reports every part up', async () => {
    // The first call after the start (a busy appservice is up: tests/integration/healthUnderBacklog.test.ts).
    const res = await chatctl(['health'], env);
    expect({ code: res.code, out: res.code === 0 ? '' : res.out }).toEqual({ code: 0, out: '' });
    for (const part of ['synapse', 'appservice', 'mongodb', 'redis', 'queues']) expect(res.out).toMatch(new RegExp(`${part}.*up`));
  });

  test('chats off makes the rooms read-only and reports the job; queues shows the counts', async () => {
    const net = uniqueId('cli');
    const service = s.token('service', 'host-platform', net);
    await s.api('PUT', `/v1/networks/${net}`, service, { name: 'Console Corner' });
    await waitForJob(s.baseUrl, service, (await s.api('POST', `/v1/networks/${net}/customers:import`, service, { customers: customerRows(2) })).body.jobId);
    const chat = await s.all.appservice.services.conversations.openSupport(net, 'c0', { kind: 'customer', networkId: net, id: 'c0' });

    const res = await chatctl(['chats', net, 'off'], env);
    expect(res.code).toBe(0);
    expect(res.out).toContain('100%');
    expect(res.out).toMatch(/"rooms": 1,\s+"changed": 1/);
    expect((await NetworkModel.findById(net).lean())?.chatsEnabled).toBe(false);
    const pl = (await s.all.appservice.services.matrix.getState(chat.roomId!, 'm.room.power_levels')) as { events_default: number };
    expect(pl.events_default).toBeGreaterThan(0);

    const queues = await chatctl(['queues'], env);
    expect(queues.code).toBe(0);
    expect(queues.out).toContain('provisioning');
    expect(queues.out).toMatch(/completed\s*│\s*\d+/);
  });

  test('deactivating an unknown customer fails with a clear message', async () => {
    const res = await chatctl(['deactivate', 'no-such-network', 'nobody'], env);
    expect(res.code).toBe(1);
    expect(res.out).toContain('chatctl: customer not found');
  });
});
