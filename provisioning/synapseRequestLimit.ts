import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { MatrixApi, type RequestOptions } from '../appservice';

/**
 * SYNAPSE_MAX_REQUESTS_PER_SECOND for all workers together: the budget is counted in Redis, so
 * adding workers never adds load on Synapse. While Redis is away the workers wait with it (their
 * jobs cannot finish without Redis anyway).
 */
export class SynapseRequestLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, perSecond: number) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'provisioning:synapse-requests',
      points: perSecond,
      duration: 1,
    });
  }

  async take(): Promise<void> {
    for (;;) {
      try {
        await this.limiter.consume('all');
        return;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        await new Promise((r) => setTimeout(r, Math.max(5, res.msBeforeNext)));
      }
    }
  }
}

/** The Synapse client of the workers: every request waits for its share of the budget. */
export class RateLimitedMatrixApi extends MatrixApi {
  constructor(
    baseUrl: string,
    asToken: string,
    private readonly limiter: SynapseRequestLimiter,
  ) {
    super(baseUrl, asToken);
  }

  override async request<T = Record<string, unknown>>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    await this.limiter.take();
    return super.request<T>(method, path, opts);
  }
}
