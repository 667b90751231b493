import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../runtime';

/**
 * ioredis connections for BullMQ. Workers wait for Redis to come back (maxRetriesPerRequest: null,
 * as BullMQ requires); producers in request paths fail at once so the API can answer 503.
 */
export function createWorkerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

export function createProducerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 3000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    ...extra,
  });
}

/** Resolves once the connection is ready; a Redis that cannot be reached at start stops it, naming REDIS_URL. */
export function waitUntilReady(redis: Redis, url: string, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new ConfigError('REDIS_URL', `cannot connect to ${url.replace(/\/\/[^@/]*@/, '//***@')} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
