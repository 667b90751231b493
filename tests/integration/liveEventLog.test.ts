import { Redis } from 'ioredis';
import { appendEvent, eventsAfter, registerListener, LOG_MAX_EVENTS } from '../../live/liveEventLog';
import { testConfig, uniqueId } from '../support/harness';

/**
 * The live event log on a real Redis: what a Last-Event-ID replays, and when it must say `resync`
 * instead (trimmed past the id, a log that began after it, an id that is not ours); events are
 * logged only for recipients who listen, and a once-key publishes an event once.
 */
describe('live event log (Redis)', () => {
  const redis = new Redis(testConfig().redisUrl);
  afterAll(() => redis.quit());
  const recipient = () => ({ kind: 'customer' as const, networkId: uniqueId('net'), id: 'alice' });

  test('replays exactly the events after an id, in order; nothing for someone who never listened', async () => {
    const alice = recipient();
    const bob = { ...alice, id: 'bob' };
    await registerListener(redis, alice);
    for (let i = 0; i < 5; i++) await appendEvent(redis, 'message.created', { to: [{ recipient: alice }, { recipient: bob }] }, { n: i });
    const all = await eventsAfter(redis, alice, '0-1');
    // '0-1' lies before the log began: the log cannot say what came before it.
    expect(all.resync).toBe(true);
    const since = await registerListener(redis, alice);
    const full = await eventsAfter(redis, alice, since);
    if (full.resync) throw new Error('unexpected resync');
    expect(full.events.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
    const after2 = await eventsAfter(redis, alice, full.events[1]!.id);
    expect(after2.resync === false && after2.events.map((e) => (e.data as { n: number }).n)).toEqual([2, 3, 4]);
    expect(await redis.exists(`live:log:{c:${encodeURIComponent(bob.networkId)}:bob}`)).toBe(0);
    expect((await eventsAfter(redis, alice, 'not-an-id')).resync).toBe(true);
  });

  test('a once-key publishes an event once, however many producers announce it', async () => {
    const alice = recipient();
    const since = await registerListener(redis, alice);
    const key = uniqueId('once');
    expect(await appendEvent(redis, 'message.created', { to: [{ recipient: alice }] }, { id: 'm1' }, { onceKey: key })).toBe(1);
    expect(await appendEvent(redis, 'message.created', { to: [{ recipient: alice }] }, { id: 'm1' }, { onceKey: key })).toBe(-1);
    const got = await eventsAfter(redis, alice, since);
    expect(got.resync === false && got.events.length).toBe(1);
  });

  test('an id whose successors were trimmed gets resync; one after the trimmed part replays exactly', async () => {
    const alice = recipient();
    const since = await registerListener(redis, alice);
    const total = LOG_MAX_EVENTS + 500;
    for (let start = 0; start < total; start += 500) {
      await Promise.all(Array.from({ length: Math.min(500, total - start) }, (_, k) => appendEvent(redis, 'chat.updated', { to: [{ recipient: alice }] }, { n: start + k })));
    }
    expect((await eventsAfter(redis, alice, since)).resync).toBe(true);
    const tail = await redis.xrevrange(`live:log:{c:${encodeURIComponent(alice.networkId)}:alice}`, '+', '-', 'COUNT', 101);
    const from = tail.at(-1)![0];
    const replay = await eventsAfter(redis, alice, from);
    if (replay.resync) throw new Error('unexpected resync for a retained id');
    expect(replay.events.map((e) => e.id)).toEqual(tail.slice(0, 100).map(([id]) => id).reverse());
  });
});
