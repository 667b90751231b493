import { Redis } from 'ioredis';
import { createRootLogger, LeaseTimeoutError, RedisLeases } from '../../runtime';
import { uniqueId } from '../support/harness';

/** Leases against the test stack's Redis: one holder at a time, across separate connections. */
describe('Redis leases', () => {
  const log = createRootLogger('silent', 'test');
  const redisUrl = process.env.REDIS_URL!;
  // Two instances: two processes, each with its own connection.
  const first = new RedisLeases(redisUrl, log);
  const second = new RedisLeases(redisUrl, log);
  const raw = new Redis(redisUrl);
  afterAll(async () => {
    await Promise.all([first.close(), second.close(), raw.quit()]);
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Starts work that holds `name` until the returned release is called; resolves once it holds it. */
  async function holding(leases: RedisLeases, name: string): Promise<{ release: () => void; done: Promise<void> }> {
    let release: (() => void) | undefined;
    const done = leases.hold(name, () => new Promise<void>((r) => (release = r)));
    while (!release) await sleep(5);
    return { release, done };
  }

  test('work under the same lease never overlaps, from either holder; other leases do not wait', async () => {
    const name = uniqueId('lease');
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const work = (i: number) => async () => {
      inside++;
      most = Math.max(most, inside);
      await sleep(15);
      order.push(i);
      inside--;
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? first : second).hold(name, work(i))));
    expect(most).toBe(1);
    expect(order).toHaveLength(12);

    // A different lease is not held up by a long-running one.
    const longRunning = await holding(first, name);
    const started = Date.now();
    await second.hold(uniqueId('other'), async () => undefined);
    expect(Date.now() - started).toBeLessThan(500);
    longRunning.release();
    await longRunning.done;
  });

  test('a lease is renewed while its work runs longer than the lease', async () => {
    const name = uniqueId('lease');
    let secondRanAt = 0;
    let firstDoneAt = 0;
    const long = first.hold(name, async () => {
      await sleep(700);
      firstDoneAt = Date.now();
    }, { leaseMs: 200 });
    await sleep(50);
    await second.hold(name, async () => {
      secondRanAt = Date.now();
    }, { leaseMs: 200 });
    await long;
    expect(secondRanAt).toBeGreaterThanOrEqual(firstDoneAt);
  });

  test('a holder that died frees its lease when the lease expires; a stranger cannot release it', async () => {
    const name = uniqueId('lease');
    // A holder that crashed mid-work: its key stays until it expires.
    await raw.set(`lease:${name}`, 'a-crashed-holder', 'PX', 400);
    const started = Date.now();
    await first.hold(name, async () => {
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      // Our lease now; the crashed holder's token no longer matches, so nothing of theirs can free it.
      expect(await raw.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`, 1, `lease:${name}`, 'a-crashed-holder')).toBe(0);
      expect(await raw.exists(`lease:${name}`)).toBe(1);
    });
    // Released by its holder when the work ended.
    expect(await raw.exists(`lease:${name}`)).toBe(0);
  });

  test('waiting longer than allowed fails with a retryable error and runs nothing', async () => {
    const name = uniqueId('lease');
    const holder = await holding(first, name);
    let ran = false;
    const waited = second.hold(name, async () => {
      ran = true;
    }, { waitMs: 300 });
    await expect(waited).rejects.toBeInstanceOf(LeaseTimeoutError);
    expect(ran).toBe(false);
    holder.release();
    await holder.done;
  });

  test('work that throws releases the lease', async () => {
    const name = uniqueId('lease');
    await expect(first.hold(name, async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await raw.exists(`lease:${name}`)).toBe(0);
  });
});
