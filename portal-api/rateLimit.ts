import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { type Config, RateLimitedError, UpstreamUnavailableError } from '../runtime';
import type { Caller } from './auth';

/** Counts one request of the caller (rejects with 429 over the limit), and says who was refused lately. */
export interface CallerRateLimit {
  (caller: Caller): Promise<void>;
  /**
   * True while this process knows the caller to be over the limit (it refused them, and their
   * window has not ended): routes then start no reads before the limiter has answered.
   */
  refusedLately(caller: Caller): boolean;
}

/** Callers this process refused, remembered at most this many at once (their window's length each). */
const REFUSED_CALLERS_KEPT = 10000;

/**
 * Requests per caller and window, counted in Redis so every portal-API process shares one budget.
 * Without Redis the API answers 503 rather than running unlimited.
 */
export function callerRateLimit(redis: Redis, limits: Config['rateLimit']): CallerRateLimit {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: 'portal-api:rate',
    points: limits.requests,
    duration: limits.windowSeconds,
    rejectIfRedisNotReady: true,
  });
  const refused = new LRUCache<string, true>({ max: REFUSED_CALLERS_KEPT });
  const keyOf = (caller: Caller) => `${caller.role}:${caller.networkId ?? '*'}:${caller.sub}`;
  const consume = async (caller: Caller) => {
    try {
      await limiter.consume(keyOf(caller));
    } catch (res) {
      if (res instanceof RateLimiterRes) {
        refused.set(keyOf(caller), true, { ttl: Math.max(1, res.msBeforeNext) });
        throw new RateLimitedError(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
      }
      throw new UpstreamUnavailableError('redis');
    }
  };
  return Object.assign(consume, { refusedLately: (caller: Caller) => refused.has(keyOf(caller)) });
}
