import { Redis, type RedisOptions } from 'ioredis';

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
