import { startAppservice } from '../../appservice';
import { createNetwork } from '../e2e/networkFixture';
import { eventually, startServices, testConfig, type TestServices } from '../support/harness';

const BACKLOG_MESSAGES = 400;

type Health = { status: string; components: Record<string, { status: string; details?: { pendingTransactions?: number | null } }> };

/**
 * A restarted appservice catching up on what Synapse queued while it was away is busy, not down:
 * health answers 200 throughout and reports the backlog. (Before, Synapse's relay of the ping
 * failed with 502 while it pushed the backlog, and health answered 503 for seconds.)
 */
describe('health while the appservice catches up on a backlog', () => {
  let s: TestServices;
  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('a busy appservice is up, with its backlog reported', async () => {
    const n = await createNetwork(s, { customers: { ann: { displayName: 'Ann' }, ben: { displayName: 'Ben' } } });
    const chat = await s.api('POST', '/v1/chats', n.customer('ann'), { userId: 'ben' });
    expect(chat.status).toBeLessThan(300);
    const { matrix, virtualUsers } = s.all.portalApi.deps.services;
    const ann = virtualUsers.userId({ kind: 'customer', networkId: n.net, id: 'ann' });
    await s.all.appservice.stop();
    // Synapse cannot push these: it queues them, backs off, and pushes them to the next listener.
    // With the appservice away, Synapse's rule check of each send waits for its connection attempt
    // (README › Security): sent 20 at a time, the last one alone, so it is the room's newest.
    const send = (i: number) => matrix.sendEvent(chat.body.matrixRoomId, 'm.room.message', `backlog-${i}`, { msgtype: 'm.text', body: `while away ${i}` }, ann);
    for (let i = 0; i < BACKLOG_MESSAGES - 1; i += 20) await Promise.all(Array.from({ length: Math.min(20, BACKLOG_MESSAGES - 1 - i) }, (_, j) => send(i + j)));
    await send(BACKLOG_MESSAGES - 1);
    const restarted = await startAppservice(testConfig());
    try {
      const ops = s.token('operator', 'ops');
      const answers: Array<{ status: number; body: Health }> = [];
      const preview = async () =>
        (await s.api('GET', '/v1/chats', n.customer('ben'))).body.chats?.find((c: { id: string }) => c.id === chat.body.id)?.lastMessage?.body;
      const caughtUp = `while away ${BACKLOG_MESSAGES - 1}`;
      await eventually(
        'the index to catch up on the backlog',
        async () => {
          answers.push(await s.api<Health>('GET', '/v1/ops/health', ops));
          return (await preview()) === caughtUp;
        },
        120000,
      );
      // Health was asked while the appservice was still catching up (the first answer came before
      // the index had the last message), and every answer was 200 with the backlog reported.
      expect(answers.length).toBeGreaterThan(1);
      expect(answers.filter((a) => a.status !== 200).map((a) => a.body)).toEqual([]);
      for (const a of answers) expect(typeof a.body.components.appservice?.details?.pendingTransactions).toBe('number');
    } finally {
      await restarted.stop();
    }
  });
});
