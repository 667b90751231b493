import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { PROJECT_ROOT } from './cacheDir';
import { freePort } from './freePort';
import { runInstallScript, startProcess, tail, waitFor, type ManagedProcess } from './childProcess';

export interface RedisHandle {
  url: string;
  kind: 'external' | 'local';
  /**
   * Stops and starts the same server on the same port and data (for fault tests). `kill` stops it
   * with SIGKILL (what the AOF had not synced yet is lost); `whileDown` runs while it is gone.
   */
  restart(downMs?: number, opts?: { kill?: boolean; whileDown?: () => Promise<unknown> }): Promise<void>;
  stop(): Promise<void>;
}

/** REDIS_URL when set; otherwise a redis-server of our own on a free loopback port, AOF on. */
export async function startRedis(opts: { dataDir: string; externalUrl?: string }): Promise<RedisHandle> {
  if (opts.externalUrl) {
    return { url: opts.externalUrl, kind: 'external', restart: async () => { throw new Error('cannot restart an external Redis'); }, stop: async () => undefined };
  }
  const binary = runInstallScript(join(PROJECT_ROOT, 'scripts', 'install-redis.sh'));
  const dir = join(opts.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const logPath = join(opts.dataDir, 'redis.log');
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'yes'];
  const launch = async (): Promise<ManagedProcess> => {
    const proc = startProcess(binary, args, { logPath });
    await waitFor(
      `redis-server on ${url}`,
      async () => {
        const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        try {
          await client.connect();
          return (await client.ping()) === 'PONG';
        } finally {
          client.disconnect();
        }
      },
      15000,
      () => tail(logPath),
    );
    return proc;
  };
  let proc = await launch();
  return {
    url,
    kind: 'local',
    async restart(downMs = 1000, opts = {}) {
      await (opts.kill ? proc.kill() : proc.stop());
      await Promise.all([new Promise((r) => setTimeout(r, downMs)), opts.whileDown?.()]);
      proc = await launch();
    },
    stop: () => proc.stop(),
  };
}
