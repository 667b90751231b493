import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from './logger';

/** Renews the lease only while its holder still owns it. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** Releases the lease only if its holder still owns it (an expired lease may be someone else's now). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface LeaseOptions {
  /** How long a lease lives without renewal (a holder that died frees it after this). */
  leaseMs?: number;
  /** How long to wait for someone else's lease before giving up. */
  waitMs?: number;
}

/** Waited too long for a lease: a plain Error, so a job that meets it is retried. */
export class LeaseTimeoutError extends Error {
  constructor(name: string, waitedMs: number) {
    super(`lease ${name} still held by another process after ${waitedMs} ms`);
    this.name = 'LeaseTimeoutError';
  }
}

/**
 * Short exclusive leases in Redis, for work that reads a state and acts on it and must not
 * interleave with the same work in another process (two provisioning workers placing the same
 * person in spaces). The single-instance pattern of Redis's SET documentation: `SET key token NX PX`,
 * renewed while the work runs, released only by its holder. One Redis serves the deployment, so
 * Redlock's multi-instance quorum (and a library for it) is not needed.
 */
export class RedisLeases {
  private redis: Redis | null = null;

  constructor(
    private readonly redisUrl: string,
    private readonly log: Logger,
    private readonly defaults: Required<LeaseOptions> = { leaseMs: 30000, waitMs: 120000 },
  ) {}

  /** Runs `work` while holding the lease `name`; waits (polling) while another holder has it. */
  async hold<T>(name: string, work: () => Promise<T>, options: LeaseOptions = {}): Promise<T> {
    const { leaseMs, waitMs } = { ...this.defaults, ...options };
    const redis = this.connection();
    const key = `lease:${name}`;
    const token = randomUUID();
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if ((await redis.set(key, token, 'PX', leaseMs, 'NX')) === 'OK') break;
      if (Date.now() - started > waitMs) throw new LeaseTimeoutError(name, Date.now() - started);
      // Short at first (the usual holder is done within a few Synapse calls), then easing off.
      await new Promise((r) => setTimeout(r, Math.min(20 * 2 ** Math.min(attempt, 4), 300) + Math.random() * 20));
    }
    const renewal = setInterval(() => {
      redis.eval(RENEW, 1, key, token, leaseMs).then(
        (kept) => { if (kept !== 1) this.log.warn({ lease: name }, 'lease expired while its work was still running'); },
        (err: unknown) => this.log.warn({ lease: name, err: String(err) }, 'lease renewal failed'),
      );
    }, Math.max(Math.floor(leaseMs / 3), 10));
    renewal.unref();
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      // A release lost to a closing connection is not an error: the lease expires by itself.
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const redis = this.redis;
    this.redis = null;
    if (redis) await redis.quit().catch(() => redis.disconnect());
  }

  /** Opened on first use: a process that never takes a lease never connects. */
  private connection(): Redis {
    if (!this.redis) {
      this.redis = new Redis(this.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 3000, retryStrategy: (n) => Math.min(n * 200, 2000) });
      // Failures surface on the commands (a job that meets one is retried); the connection retries by itself.
      this.redis.on('error', () => undefined);
    }
    return this.redis;
  }
}
