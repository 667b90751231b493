import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/stack/freePort';
import { METRIC_FAMILIES, QUEUE_METRIC_FAMILIES } from '../../runtime';
import { callApi, eventually, testConfig, uniqueId } from '../support/harness';
import { tokenMinter } from '../support/apiClient';

/**
 * The release as an operator gets it (README "Deploying"): `npm run build`, then package.json,
 * package-lock.json and dist/ alone in a fresh folder, `npm ci --omit=dev` there (no tsx, no
 * TypeScript), and `node dist/bin/server.js <role>` against the shared test stack in production
 * mode: every listener ready, a message through, probes and metrics on every role.
 */
const ROOT = join(__dirname, '..', '..');
const figures: Record<string, number | string> = {};
let release = '';

/** The environment of the test stack, without Jest's Node flags, in production mode. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _jestFlags, ...env } = process.env;
  return { ...env, NODE_ENV: 'production', WEB_CLIENT_DEV_LOGIN: 'false', LOG_LEVEL: 'info', ...extra };
}

function kib(path: string): number {
  return Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]);
}

class ServerProcess {
  readonly child: ChildProcess;
  private exited: Promise<number | null>;

  constructor(role: string, env: NodeJS.ProcessEnv) {
    // Its log goes to the test data directory (kept when a test fails), not to the test output.
    const logFile = join(process.env.TEST_DATA_DIR ?? release, `release-${role}.log`);
    const fd = openSync(logFile, 'a');
    this.child = spawn(process.execPath, [join('dist', 'bin', 'server.js'), role], { cwd: release, env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** SIGTERM (a clean shutdown), then SIGKILL if it has not ended within 15 s. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

/** Resolves once /readyz answers 200 on every URL (a refused connection is "not yet"). */
async function allReady(bases: string[], timeoutMs = 60000): Promise<void> {
  await eventually(
    `readyz on ${bases.join(', ')}`,
    async () => {
      const answers = await Promise.all(bases.map((b) => get(`${b}/readyz`).then((r) => r.status, () => 0)));
      return answers.every((s) => s === 200);
    },
    timeoutMs,
  );
}

/** /livez and /readyz of one listener, as a load balancer sees them. */
async function expectProbes(base: string): Promise<void> {
  const live = await get(`${base}/livez`);
  expect({ status: live.status, body: JSON.parse(live.text) }).toEqual({ status: 200, body: { status: 'ok' } });
  const ready = await get(`${base}/readyz`);
  const body = JSON.parse(ready.text);
  expect({ status: ready.status, status_: body.status }).toEqual({ status: 200, status_: 'ready' });
  expect(Object.values(body.checks).every((v) => v === true)).toBe(true);
  // Nothing of the configuration (URLs, tokens) in a probe's answer.
  expect(ready.text).not.toMatch(/mongodb:|redis:|http:|token|secret/i);
}

beforeAll(async () => {
  let t = Date.now();
  execFileSync('bash', ['scripts/build.sh'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 240000 });
  figures.buildMs = Date.now() - t;
  figures.distKiB = kib(join(ROOT, 'dist'));

  release = mkdtempSync(join(tmpdir(), 'chat-release-'));
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(release, file));
  cpSync(join(ROOT, 'dist'), join(release, 'dist'), { recursive: true });
  // The lockfile's override of the crypto module points into packages/ (a file: dependency).
  cpSync(join(ROOT, 'packages'), join(release, 'packages'), { recursive: true });
  t = Date.now();
  const { NODE_OPTIONS: _jestFlags, ...npmEnv } = process.env;
  execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: release,
    env: npmEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 240000,
  });
  figures.installMs = Date.now() - t;
  figures.nodeModulesKiB = kib(join(release, 'node_modules'));
}, 480000);

afterAll(() => {
  if (release) rmSync(release, { recursive: true, force: true });
  mkdirSync(join(ROOT, '.run'), { recursive: true });
  writeFileSync(join(ROOT, '.run', 'release-build-figures.json'), JSON.stringify(figures, null, 2) + '\n');
});

describe('the release build', () => {
  test('installs without dev dependencies, and nothing it loads needs one', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    // (typescript itself is there: a peer dependency of valibot, under @bull-board/api; nothing of ours loads it.)
    for (const dev of ['tsx', 'jest', 'mongodb-memory-server', 'matrix-js-sdk', 'vite', 'node', '@swc/core']) {
      expect({ dev, installed: existsSync(join(release, 'node_modules', dev)) }).toEqual({ dev, installed: false });
    }
    for (const dev of ['tsx', 'typescript', 'jest', 'mongodb-memory-server', 'matrix-js-sdk', 'vite', 'node']) expect({ dev, dependency: pkg.dependencies[dev] }).toEqual({ dev, dependency: undefined });
    // Every package the compiled code requires or imports is a runtime dependency (or Node's own).
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const needed = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (path !== join(release, 'dist', 'web')) walk(path);
        } else if (entry.name.endsWith('.js')) {
          for (const m of readFileSync(path, 'utf8').matchAll(/(?:require|import)\(["']([^"'.][^"']*)["']\)/g)) {
            const spec = m[1]!;
            if (builtins.has(spec) || builtins.has(spec.split('/')[0]!)) continue;
            needed.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
          }
        }
      }
    };
    walk(join(release, 'dist'));
    expect(needed.size).toBeGreaterThan(10);
    expect([...needed].filter((name) => !pkg.dependencies[name]).sort()).toEqual([]);
    // The web client's bundle is where the built portal API serves it from.
    expect(readdirSync(join(release, 'dist', 'web', 'dist'))).toContain('index.html');
  });

  test('`node dist/bin/server.js all` gets ready and carries a message; probes and metrics answer on each listener', async () => {
    const [portalPort, workerPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
    // The appservice listens where the stack's registration sends Synapse (APPSERVICE_PORT).
    const appservicePort = process.env.APPSERVICE_PORT!;
    const env = serverEnv({ PORTAL_API_PORT: String(portalPort), WORKER_HTTP_PORT: String(workerPort), METRICS_PORT: String(metricsPort) });
    const portal = `http://127.0.0.1:${portalPort}`;
    const listeners = [portal, `http://127.0.0.1:${appservicePort}`, `http://127.0.0.1:${workerPort}`];
    const started = Date.now();
    const server = new ServerProcess('all', env);
    try {
      await allReady(listeners);
      figures.allStartToReadyMs = Date.now() - started;
      for (const base of listeners) await expectProbes(base);
      const latencies: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        expect((await get(`${portal}/readyz`)).status).toBe(200);
        latencies.push(performance.now() - t);
      }
      latencies.sort((a, b) => a - b);
      figures.readyzMedianMs = Number(latencies[25]!.toFixed(2));
      figures.readyzMaxMs = Number(latencies[49]!.toFixed(2));

      // What the built server reads from beside dist/: the web client's bundle, the API documentation.
      const page = await get(`${portal}/chat/`);
      expect({ status: page.status, html: page.text.includes('<coworking-chat') || page.text.includes('/chat/assets/') }).toEqual({ status: 200, html: true });
      const openapi = JSON.parse((await get(`${portal}/v1/openapi.json`)).text);
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/livez', '/readyz']));
      expect((await get(`${portal}/v1/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);

      // A network, two members, a message from one read in the other's history.
      const token = tokenMinter(testConfig());
      const api = (method: string, path: string, tok: string, body?: unknown) => callApi(portal, method, path, tok, body);
      const net = uniqueId('release');
      const service = token('service', 'host-platform', net);
      expect((await api('PUT', `/v1/networks/${net}`, service, { name: 'Release Offices' })).status).toBe(200);
      expect((await api('PUT', `/v1/networks/${net}/locations/loc-1`, service, { name: 'Downtown' })).status).toBe(200);
      const jobs: string[] = [];
      for (const [cid, name] of [
        ['ada', 'Ada Lovelace'],
        ['ben', 'Ben Okri'],
      ]) {
        const res = await api('PUT', `/v1/networks/${net}/customers/${cid}`, service, { kind: 'member', displayName: name, locationIds: ['loc-1'], hideNameOnBookings: false, status: 'active' });
        expect(res.status).toBe(201);
        jobs.push(res.body.provisioningJobId);
      }
      for (const job of jobs) {
        const done = await eventually(`provisioning job ${job}`, async () => {
          const res = await api('GET', `/v1/jobs/${encodeURIComponent(job)}`, service);
          return res.body?.state === 'completed' || res.body?.state === 'failed' ? res.body : null;
        }, 60000);
        expect({ job, state: done.state, failedReason: done.failedReason }).toEqual({ job, state: 'completed', failedReason: null });
      }
      const ada = token('customer', 'ada', net);
      const ben = token('customer', 'ben', net);
      const chat = await api('POST', '/v1/chats', ada, { userId: 'ben', via: { type: 'community' } });
      expect({ status: chat.status, error: chat.body.error }).toEqual({ status: 200, error: undefined });
      const sent = await api('POST', `/v1/chats/${chat.body.id}/messages`, ada, { txnId: 'release-1', body: 'hello from the release build' });
      expect(sent.status).toBe(201);
      const history = await eventually('the message in the other member’s history', async () => {
        const res = await api('GET', `/v1/chats/${chat.body.id}/messages?limit=10`, ben);
        return res.body.messages?.some((m: { body: string }) => m.body === 'hello from the release build') ? res.body.messages : null;
      });
      expect(history[0]).toMatchObject({ body: 'hello from the release build', sender: { kind: 'customer', id: 'ada' } });

      // The data migrations ran at start (schema_migrations records 0001).
      const migrations = execFileSync(process.execPath, [join('dist', 'bin', 'chatctl.js'), 'migrate', '--status'], { cwd: release, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(migrations).toMatch(/^0001-baseline\tapplied /m);

      // Metrics: every family, with the samples this traffic must have produced.
      const scraped = await get(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      for (const family of [...METRIC_FAMILIES, ...QUEUE_METRIC_FAMILIES]) expect({ family, present: scraped.text.includes(`# TYPE ${family} `) }).toEqual({ family, present: true });
      const samples = (re: RegExp) => scraped.text.split('\n').filter((l) => re.test(l));
      expect(samples(/^chat_http_request_duration_seconds_count\{listener="portal-api",method="POST",route="\/v1\/chats\/:\w+\/messages",status="201"\} [1-9]/)).toHaveLength(1);
      expect(samples(/^chat_http_request_duration_seconds_count\{listener="appservice",method="PUT",route="\/_matrix\/app\/v1\/transactions\/:txnId",status="200"\} [1-9]/)).toHaveLength(1);
      expect(samples(/^chat_appservice_events_processed_total\{type="m\.room\.message",outcome="applied"\} [1-9]/)).toHaveLength(1);
      expect(samples(/^chat_appservice_transaction_lag_seconds_count [1-9]/)).toHaveLength(1);
      expect(samples(/^chat_synapse_request_duration_seconds_count\{method="PUT",endpoint="\/_matrix\/client\/v3\/rooms\/:id\/send\/m\.room\.message\/:id",status="2xx"\} [1-9]/)).toHaveLength(1);
      expect(samples(/^bullmq_job_count\{queue="provisioning", state="completed"\} [1-9]/)).toHaveLength(1);
      expect(samples(/^chat_live_streams_connected 0$/)).toHaveLength(1);
      // Bounded labels: no network id, no Matrix id anywhere.
      expect(scraped.text).not.toContain(net);
      expect(scraped.text).not.toMatch(/[@!][A-Za-z0-9_=-]+:localhost/);
      figures.metricsLines = scraped.text.split('\n').length;
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 240000);

  test('each role on its own: `node dist/bin/server.js appservice|portal-api|worker`', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const [portalPort, workerPort, ...metricsPorts] = ports;
    const base = { PORTAL_API_PORT: String(portalPort), WORKER_HTTP_PORT: String(workerPort) };
    const roles = [
      { role: 'appservice', probe: `http://127.0.0.1:${process.env.APPSERVICE_PORT}`, metrics: metricsPorts[0]! },
      { role: 'portal-api', probe: `http://127.0.0.1:${portalPort}`, metrics: metricsPorts[1]! },
      { role: 'worker', probe: `http://127.0.0.1:${workerPort}`, metrics: metricsPorts[2]! },
    ];
    const started = Date.now();
    const servers = roles.map((r) => new ServerProcess(r.role, serverEnv({ ...base, METRICS_PORT: String(r.metrics) })));
    try {
      await Promise.all(
        roles.map(async (r) => {
          await allReady([r.probe]);
          figures[`${r.role}StartToReadyMs`] = Date.now() - started;
        }),
      );
      for (const r of roles) {
        await expectProbes(r.probe);
        const scraped = await get(`http://127.0.0.1:${r.metrics}/metrics`);
        expect({ role: r.role, status: scraped.status }).toEqual({ role: r.role, status: 200 });
        for (const family of METRIC_FAMILIES) expect({ role: r.role, family, present: scraped.text.includes(`# TYPE ${family} `) }).toEqual({ role: r.role, family, present: true });
        // Queue depth comes from the process that runs the worker.
        expect({ role: r.role, queues: scraped.text.includes('# TYPE bullmq_job_count ') }).toEqual({ role: r.role, queues: r.role === 'worker' });
      }
    } finally {
      const codes = await Promise.all(servers.map((s) => s.stop()));
      expect(codes).toEqual([0, 0, 0]);
    }
  }, 180000);
});
