import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { HOMESERVER_RULES_PATH } from '../appservice';
import { PROJECT_ROOT } from '../scripts/stack/cacheDir';
import { runInstallScript, startProcess, tail, waitFor, type ManagedProcess } from '../scripts/stack/childProcess';

export interface SynapseOptions {
  /** Where the database, media, keys, generated config and homeserver.log live. */
  dataDir: string;
  port: number;
  serverName: string;
  registrationPath: string;
  profile: 'dev' | 'test';
  /**
   * The scale profile (README › Deploying): Synapse on PostgreSQL in worker mode, a main process
   * and one generic worker replicating through Redis, behind nginx on `port` (the stack starts
   * nginx with the same ports). Absent: one process on SQLite listening on `port` itself.
   */
  workers?: SynapseWorkerOptions;
}

export interface SynapseWorkerOptions {
  database: { host: string; port: number; user: string; password: string; database: string };
  redisUrl: string;
  /** The main process's client listener (nginx sends it everything the worker does not serve). */
  mainPort: number;
  /** The main process's HTTP replication listener (instance_map `main`). */
  replicationPort: number;
  /** The generic worker's client listener. */
  workerPort: number;
}

/** The generic worker's name: it also sends the appservice its transactions (notify_appservices_from_worker). */
export const CLIENT_WORKER_NAME = 'client_worker1';

export interface SynapseHandle {
  url: string;
  logPath: string;
  /** Synapse's registration shared secret (a file in dataDir): lets the service create its admin user. */
  registrationSharedSecretPath: string;
  /** SIGKILL-free restart on the same data (for fault tests). */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const SYNAPSE_DIR = join(PROJECT_ROOT, 'synapse');

/**
 * Starts the pinned Synapse (installed from PyPI into a cached virtualenv by synapse/install.sh)
 * with synapse/homeserver.base.yaml, the profile's overrides and a generated instance file, and
 * waits for /health. Secrets are generated once per data directory and never leave it.
 */
export async function startSynapse(opts: SynapseOptions): Promise<SynapseHandle> {
  const venv = runInstallScript(join(SYNAPSE_DIR, 'install.sh'), opts.workers ? ['scale'] : []);
  mkdirSync(join(opts.dataDir, 'media'), { recursive: true });
  const logPath = join(opts.dataDir, 'homeserver.log');
  const instancePath = join(opts.dataDir, 'instance.yaml');
  writeFileSync(join(opts.dataDir, 'log.yaml'), YAML.stringify(logConfig(logPath)));
  const registrationSharedSecretPath = join(opts.dataDir, 'registration_shared_secret');
  // Kept across restarts: the service admin user's password is derived from it.
  if (!existsSync(registrationSharedSecretPath)) {
    writeFileSync(registrationSharedSecretPath, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  writeFileSync(instancePath, YAML.stringify({ ...instanceConfig(opts), registration_shared_secret_path: registrationSharedSecretPath }), {
    mode: 0o600,
  });
  const configs = [
    join(SYNAPSE_DIR, 'homeserver.base.yaml'),
    ...(opts.profile === 'test' ? [join(SYNAPSE_DIR, 'homeserver.test.yaml')] : []),
    instancePath,
  ];
  const url = `http://127.0.0.1:${opts.port}`;
  const python = join(venv, 'bin', 'python');
  const launchOne = async (name: string, args: string[], healthUrl: string, log: string, stdoutPath: string): Promise<ManagedProcess> => {
    const proc = startProcess(python, args, { logPath: stdoutPath, cwd: opts.dataDir });
    let exited = false;
    proc.child.once('exit', () => (exited = true));
    await waitFor(
      `${name} on ${healthUrl}`,
      async () => {
        if (exited) throw new Error(`${name} exited`);
        const res = await fetch(`${healthUrl}/health`, { signal: AbortSignal.timeout(1000) });
        return res.ok;
      },
      90000,
      () => `--- ${log} ---\n${tail(log)}\n--- stdout ---\n${tail(stdoutPath)}`,
    ).catch(async (err) => {
      await proc.kill();
      throw new Error(exited ? `${name} exited at start; see ${log}\n${tail(stdoutPath)}` : (err as Error).message);
    });
    return proc;
  };
  const mainArgs = ['-m', 'synapse.app.homeserver', ...configs.flatMap((c) => ['-c', c])];
  const mainUrl = opts.workers ? `http://127.0.0.1:${opts.workers.mainPort}` : url;
  const launchMain = () => launchOne('Synapse', mainArgs, mainUrl, logPath, join(opts.dataDir, 'stdout.log'));
  let launchWorker: (() => Promise<ManagedProcess>) | null = null;
  if (opts.workers) {
    const workerLogPath = join(opts.dataDir, `${CLIENT_WORKER_NAME}.log`);
    writeFileSync(join(opts.dataDir, `${CLIENT_WORKER_NAME}-log.yaml`), YAML.stringify(logConfig(workerLogPath)));
    const workerConfigPath = join(opts.dataDir, `${CLIENT_WORKER_NAME}.yaml`);
    writeFileSync(workerConfigPath, YAML.stringify(clientWorkerConfig(opts.dataDir, opts.workers)));
    const workerArgs = ['-m', 'synapse.app.generic_worker', ...[...configs, workerConfigPath].flatMap((c) => ['-c', c])];
    const workerUrl = `http://127.0.0.1:${opts.workers.workerPort}`;
    launchWorker = () => launchOne(`Synapse ${CLIENT_WORKER_NAME}`, workerArgs, workerUrl, workerLogPath, join(opts.dataDir, `${CLIENT_WORKER_NAME}.stdout.log`));
  }
  // The main process first: it brings the database schema up to date, which a worker only checks.
  const launch = async (): Promise<ManagedProcess[]> => {
    const main = await launchMain();
    if (!launchWorker) return [main];
    try {
      const worker = await launchWorker();
      // Both are up; the front (nginx, started by the stack) must route to them too.
      if (url !== mainUrl) await waitFor(`Synapse through ${url}`, async () => (await fetch(`${url}/_matrix/client/versions`, { signal: AbortSignal.timeout(1000) })).ok, 30000, () => '');
      return [main, worker];
    } catch (err) {
      await main.stop();
      throw err;
    }
  };
  // Workers first on the way down: they hold connections to the main process.
  const stopAll = async (procs: ManagedProcess[]) => {
    for (const p of [...procs].reverse()) await p.stop();
  };
  let procs = await launch();
  return {
    url,
    logPath,
    registrationSharedSecretPath,
    async restart(downMs = 500) {
      await stopAll(procs);
      await new Promise((r) => setTimeout(r, downMs));
      procs = await launch();
    },
    stop: () => stopAll(procs),
  };
}

/**
 * The generic worker (Synapse's docs/workers.md): serves the client paths nginx sends it
 * (scripts/stack/nginxServer.ts) and pushes transactions to the appservice
 * (notify_appservices_from_worker in the shared configuration).
 */
function clientWorkerConfig(dataDir: string, workers: SynapseWorkerOptions): Record<string, unknown> {
  return {
    worker_app: 'synapse.app.generic_worker',
    worker_name: CLIENT_WORKER_NAME,
    worker_listeners: [
      { type: 'http', port: workers.workerPort, bind_addresses: ['127.0.0.1'], x_forwarded: true, resources: [{ names: ['client'], compress: false }] },
    ],
    worker_log_config: join(dataDir, `${CLIENT_WORKER_NAME}-log.yaml`),
  };
}

function instanceConfig(opts: SynapseOptions): Record<string, unknown> {
  const secret = () => randomBytes(32).toString('base64url');
  const single = {
    server_name: opts.serverName,
    public_baseurl: `http://127.0.0.1:${opts.port}/`,
    pid_file: join(opts.dataDir, 'homeserver.pid'),
    listeners: [
      {
        port: opts.port,
        bind_addresses: ['127.0.0.1'],
        type: 'http',
        tls: false,
        x_forwarded: false,
        resources: [{ names: ['client'], compress: false }],
      },
    ],
    database: { name: 'sqlite3', args: { database: join(opts.dataDir, 'homeserver.db') } },
    media_store_path: join(opts.dataDir, 'media'),
    signing_key_path: join(opts.dataDir, 'signing.key'),
    log_config: join(opts.dataDir, 'log.yaml'),
    app_service_config_files: [opts.registrationPath],
    macaroon_secret_key: secret(),
    form_secret: secret(),
    modules: [homeserverRulesModule(opts.registrationPath)],
  };
  const w = opts.workers;
  if (!w) return single;
  const redis = new URL(w.redisUrl);
  return {
    ...single,
    // Clients reach Synapse through nginx, which sets X-Forwarded-For.
    listeners: [
      { port: w.mainPort, bind_addresses: ['127.0.0.1'], type: 'http', tls: false, x_forwarded: true, resources: [{ names: ['client'], compress: false }] },
      // Replication between the processes: loopback only, never exposed (Synapse's workers doc).
      { port: w.replicationPort, bind_addresses: ['127.0.0.1'], type: 'http', tls: false, x_forwarded: false, resources: [{ names: ['replication'] }] },
    ],
    database: {
      name: 'psycopg2',
      // Small pools: two processes on a 2-core machine share max_connections (postgresServer.ts).
      args: { user: w.database.user, password: w.database.password, dbname: w.database.database, host: w.database.host, port: w.database.port, cp_min: 2, cp_max: 10 },
    },
    worker_replication_secret: secret(),
    redis: {
      enabled: true,
      host: redis.hostname,
      port: Number(redis.port || 6379),
      ...(redis.password ? { password: decodeURIComponent(redis.password) } : {}),
      ...(redis.pathname.length > 1 ? { dbid: Number(redis.pathname.slice(1)) } : {}),
    },
    instance_map: { main: { host: '127.0.0.1', port: w.replicationPort } },
    // The worker, not the main process, sends the appservice its transactions.
    notify_appservices_from_worker: CLIENT_WORKER_NAME,
  };
}

/**
 * synapse-http-antispam (installed by synapse/install.sh) asks the appservice before a room is
 * created, a room joined, a user invited, an event sent, an alias made or a room published. It
 * authenticates with the registration's hs_token, the secret Synapse already uses towards the
 * appservice, so no second secret has to be kept in step. Fail-closed everywhere except events:
 * while the appservice is down, messages in existing conversations still go through and are
 * checked after the fact once it is back (README › Security).
 */
function homeserverRulesModule(registrationPath: string): Record<string, unknown> {
  const registration = YAML.parse(readFileSync(registrationPath, 'utf8')) as { url: string; hs_token: string };
  return {
    module: 'synapse_http_antispam.HTTPAntispam',
    config: {
      base_url: registration.url.replace(/\/$/, '') + HOMESERVER_RULES_PATH,
      authorization: registration.hs_token,
      enabled_callbacks: [
        'user_may_create_room',
        'user_may_join_room',
        'user_may_invite',
        'user_may_send_3pid_invite',
        'user_may_create_room_alias',
        'user_may_publish_room',
        'check_event_for_spam',
      ],
      fail_open: {
        user_may_create_room: false,
        user_may_join_room: false,
        user_may_invite: false,
        user_may_send_3pid_invite: false,
        user_may_create_room_alias: false,
        user_may_publish_room: false,
        check_event_for_spam: true,
      },
    },
  };
}

function logConfig(logPath: string): Record<string, unknown> {
  return {
    version: 1,
    formatters: { precise: { format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s' } },
    handlers: {
      file: { class: 'logging.FileHandler', formatter: 'precise', filename: logPath, encoding: 'utf8' },
    },
    loggers: { 'synapse.storage.SQL': { level: 'WARNING' }, 'synapse.access.http': { level: 'WARNING' } },
    root: { level: 'INFO', handlers: ['file'] },
    disable_existing_loggers: false,
  };
}
