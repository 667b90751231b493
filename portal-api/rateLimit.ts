import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { type Config, RateLimitedError, UpstreamUnavailableError } from '../runtime';
import type { Caller } from './auth';

export type CallerRateLimit = (caller: Caller) => Promise<void>;

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
  return async (caller) => {
    try {
      await limiter.consume(`${caller.role}:${caller.networkId ?? '*'}:${caller.sub}`);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
      throw new UpstreamUnavailableError('redis');
    }
  };
}
