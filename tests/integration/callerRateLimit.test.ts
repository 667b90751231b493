import { Redis } from 'ioredis';
import { callerRateLimit } from '../../portal-api/rateLimit';
import type { Caller } from '../../portal-api/auth';
import { RateLimitedError } from '../../runtime';
import { uniqueId } from '../support/harness';

/**
 * The portal's rate limit on the real Redis: the budget per caller and window, and what the
 * process remembers of a refusal (`refusedLately`: routes start no reads for that caller until
 * their window ends).
 */
describe('caller rate limit', () => {
  const redis = new Redis(process.env.REDIS_URL!);
  beforeAll(async () => {
    await redis.ping(); // the limiter refuses (503) while its client is not ready
  });
  afterAll(async () => {
    await redis.quit();
  });

  test('refuses past the budget, remembers the refusal for the rest of the window, and forgets it after', async () => {
    const limit = callerRateLimit(redis, { requests: 2, windowSeconds: 3 });
    const caller: Caller = { role: 'customer', sub: uniqueId('rl'), networkId: 'n1', expiresAt: Date.now() + 60000 };
    const other: Caller = { ...caller, sub: uniqueId('rl-other') };
    await limit(caller);
    await limit(caller);
    expect(limit.refusedLately(caller)).toBe(false);
    await expect(limit(caller)).rejects.toBeInstanceOf(RateLimitedError);
    expect(limit.refusedLately(caller)).toBe(true);
    expect(limit.refusedLately(other)).toBe(false);
    await new Promise((r) => setTimeout(r, 3100));
    expect(limit.refusedLately(caller)).toBe(false);
    await limit(caller);
  });
});
