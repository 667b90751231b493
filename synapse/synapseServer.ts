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
}

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
  const venv = runInstallScript(join(SYNAPSE_DIR, 'install.sh'));
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
  const args = ['-m', 'synapse.app.homeserver', ...configs.flatMap((c) => ['-c', c])];
  const url = `http://127.0.0.1:${opts.port}`;
  const launch = async (): Promise<ManagedProcess> => {
    const proc = startProcess(join(venv, 'bin', 'python'), args, { logPath: join(opts.dataDir, 'stdout.log'), cwd: opts.dataDir });
    let exited = false;
    proc.child.once('exit', () => (exited = true));
    await waitFor(
      `Synapse on ${url}`,
      async () => {
        if (exited) throw new Error('Synapse exited');
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
        return res.ok;
      },
      90000,
      () => `--- ${logPath} ---\n${tail(logPath)}\n--- stdout ---\n${tail(join(opts.dataDir, 'stdout.log'))}`,
    ).catch(async (err) => {
      await proc.kill();
      throw new Error(exited ? `Synapse exited at start; see ${logPath}\n${tail(join(opts.dataDir, 'stdout.log'))}` : (err as Error).message);
    });
    return proc;
  };
  let proc = await launch();
  return {
    url,
    logPath,
    registrationSharedSecretPath,
    async restart(downMs = 500) {
      await proc.stop();
      await new Promise((r) => setTimeout(r, downMs));
      proc = await launch();
    },
    stop: () => proc.stop(),
  };
}

function instanceConfig(opts: SynapseOptions): Record<string, unknown> {
  const secret = () => randomBytes(32).toString('base64url');
  return {
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
