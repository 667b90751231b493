import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { PROJECT_ROOT } from './cacheDir';
import { freePort } from './freePort';
import { runInstallScript, startProcess, tail, waitFor } from './childProcess';

export interface PostgresHandle {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The database Synapse uses (UTF8, C collation, as Synapse's docs require). */
  database: string;
  logPath: string;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL cluster of our own from Debian's binaries (scripts/install-postgresql.sh), in
 * `<dataDir>/postgres`, on a free loopback port, TCP only, password authentication. PostgreSQL
 * refuses to run as root: as root, the cluster belongs to the `postgres` system user the Debian
 * package creates, and every server binary runs through `setpriv` (which execs,
 * so the process the stack stops is postgres itself). Settings are small (the scale
 * profile shares a 2-core machine): a production server is sized for its load instead.
 */
export async function startPostgres(opts: { dataDir: string; database: string }): Promise<PostgresHandle> {
  const binDir = runInstallScript(join(PROJECT_ROOT, 'scripts', 'install-postgresql.sh'));
  const asRoot = userInfo().uid === 0;
  const owner = asRoot ? ownerOf('postgres') : null;
  const dir = join(opts.dataDir, 'postgres');
  const cluster = join(dir, 'cluster');
  mkdirSync(dir, { recursive: true });
  if (owner) {
    // The postgres user must reach its directory inside the (private) data directory.
    chmodSync(opts.dataDir, 0o711);
    chownSync(dir, owner.uid, owner.gid);
  }
  const as = (bin: string, args: string[]): [string, string[]] => (owner ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', join(binDir, bin), ...args]] : [join(binDir, bin), args]);
  const user = 'synapse';
  const passwordPath = join(dir, 'password');
  if (!existsSync(passwordPath)) writeFileSync(passwordPath, randomBytes(24).toString('base64url'), { mode: 0o600 });
  if (owner) chownSync(passwordPath, owner.uid, owner.gid);
  const password = readFileSync(passwordPath, 'utf8');
  if (!existsSync(join(cluster, 'PG_VERSION'))) {
    const [cmd, args] = as('initdb', ['-D', cluster, '-U', user, '--pwfile', passwordPath, '--auth-local=reject', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-instructions']);
    const res = spawnSync(cmd, args, { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`initdb failed (exit ${res.status}): ${res.stderr}`);
  }
  const port = await freePort();
  const logPath = join(dir, 'postgres.log');
  writeFileSync(logPath, '');
  if (owner) chownSync(logPath, owner.uid, owner.gid);
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
    // Synapse's processes hold up to cp_max connections each (synapse/synapseServer.ts).
    max_connections: '60',
    shared_buffers: '128MB',
    work_mem: '8MB',
    maintenance_work_mem: '64MB',
    effective_cache_size: '512MB',
    logging_collector: 'off',
    log_min_messages: 'warning',
  };
  const [cmd, args] = as('postgres', ['-D', cluster, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])]);
  const proc = startProcess(cmd, args, { logPath });
  const host = '127.0.0.1';
  await waitFor(`PostgreSQL on ${host}:${port}`, () => acceptsConnections(binDir, host, port), 30000, () => tail(logPath));
  // The database Synapse wants: UTF8 with C collation and ctype, from template0.
  const psql = (sql: string) =>
    spawnSync(join(binDir, 'psql'), ['-h', host, '-p', String(port), '-U', user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: password },
    });
  const exists = psql(`SELECT 1 FROM pg_database WHERE datname = '${opts.database}'`);
  if (exists.status !== 0) throw new Error(`psql failed: ${exists.stderr}`);
  if (exists.stdout.trim() !== '1') {
    const res = psql(`CREATE DATABASE ${opts.database} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    if (res.status !== 0) throw new Error(`creating database ${opts.database} failed: ${res.stderr}`);
  }
  return {
    host,
    port,
    user,
    password,
    database: opts.database,
    logPath,
    // SIGTERM is PostgreSQL's "smart" shutdown (waits for clients); SIGINT is "fast": rolls back and closes them.
    stop: async () => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
      proc.child.kill('SIGINT');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10000);
      await new Promise<void>((resolve) => (proc.child.exitCode !== null ? resolve() : proc.child.once('exit', () => resolve())));
      clearTimeout(timer);
    },
  };
}

function ownerOf(name: string): { uid: number; gid: number } {
  const res = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`the ${name} system user is missing (Debian's postgresql package creates it); PostgreSQL does not run as root`);
  return { uid: Number(res.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function acceptsConnections(binDir: string, host: string, port: number): Promise<boolean> {
  const open = await new Promise<boolean>((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  if (!open) return false;
  return spawnSync(join(binDir, 'pg_isready'), ['-h', host, '-p', String(port), '-q']).status === 0;
}
