import { Queue } from 'bullmq';
import { EMAIL_DIGEST_QUEUE } from '../../provisioning';
import { createWorkerConnection } from '../../provisioning/redisConnection';
import { EmailDigestModel, notificationSettingsId } from '../../store';
import { eventually, startServices, testConfig, type TestServices } from '../support/harness';
import { mailTo } from '../support/mailpit';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * What a retry decides about a window a dead worker left behind (README "Notifications", the
 * table): `sending` (died before the message's final ".") is sent again, once; `committing` with
 * the server's 250 recorded in Redis is sent, no second email; `committing` without it is
 * uncertain, no email, when no delivery lookup is configured (SMTP_DELIVERY_LOOKUP_URL unset: at
 * most once; with one, emailDeliveryLookup.test.ts). The windows are real (a message each, real
 * Synapse and Mailpit); the crash is simulated by setting the status a dead attempt leaves, then
 * the delayed job is run now.
 */
describe('email windows left behind by a dead worker', () => {
  let s: TestServices;
  let n: NetworkFixture;
  const connection = createWorkerConnection(testConfig().redisUrl);
  const queue = new Queue(EMAIL_DIGEST_QUEUE, { connection });
  const address = (who: string) => `${who}.${n.net}@recovery.test`;

  beforeAll(async () => {
    // No delivery lookup: the at-most-once fallback.
    s = await startServices({ EMAIL_DELAY_UNIT_MS: '500', SMTP_DELIVERY_LOOKUP_URL: '' });
    n = await createNetwork(s, { customers: { sam: { displayName: 'Sam' }, ann: { displayName: 'Ann' }, ben: { displayName: 'Ben' }, cat: { displayName: 'Cat' } } });
    for (const who of ['ann', 'ben', 'cat']) {
      expect((await s.api('PUT', `/v1/networks/${n.net}/customers/${who}`, n.service, { kind: 'member', displayName: who, email: address(who) })).status).toBe(200);
      // Due in 12 minutes: the job waits until the test runs it.
      expect((await s.api('PATCH', '/v1/me/notification-settings', n.customer(who), { email: { delayMinutes: 1440 } })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await queue.close();
    connection.disconnect();
    await s?.stop();
  });

  test('sending is sent again once; committing with the 250 in Redis is sent without a second email; without it, uncertain', async () => {
    const windows: Record<string, string> = {};
    for (const who of ['ann', 'ben', 'cat']) {
      const chat = (await s.api('POST', '/v1/chats', n.customer('sam'), { userId: who })).body;
      expect((await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('sam'), { txnId: `rec-${who}`, body: `hello ${who}` })).status).toBe(201);
      const personKey = notificationSettingsId(n.net, 'customer', who);
      windows[who] = await eventually(`${who}'s window queued`, async () => (await EmailDigestModel.findOne({ personKey, status: 'queued' }).lean())?._id);
    }
    const closedAt = new Date();
    // What each dead attempt left: ann before the final ".", ben after the 250 was recorded in Redis, cat in between.
    await EmailDigestModel.updateOne({ _id: windows.ann }, { $set: { status: 'sending', closedAt, attempts: 1 } });
    await EmailDigestModel.updateOne({ _id: windows.ben }, { $set: { status: 'committing', closedAt, attempts: 1 } });
    await connection.set(`email-digest:accepted:${windows.ben}`, `<${windows.ben}@recovery.test>`, 'EX', 600);
    await EmailDigestModel.updateOne({ _id: windows.cat }, { $set: { status: 'committing', closedAt, attempts: 1 } });
    for (const who of ['ann', 'ben', 'cat']) await (await queue.getJob(windows[who]!))!.promote();

    const settled = async (who: string, status: string) =>
      eventually(`${who}'s window ${status}`, async () => {
        const w = await EmailDigestModel.findById(windows[who]).lean();
        return w?.status === status && w;
      });
    const ann = await settled('ann', 'sent');
    expect(ann.attempts).toBe(2);
    const annMail = await eventually("ann's email", async () => {
      const got = await mailTo(address('ann'));
      return got.length > 0 && got;
    });
    expect(annMail).toHaveLength(1);
    const ben = await settled('ben', 'sent');
    expect(ben.emailMessageId).toBe(`<${windows.ben}@recovery.test>`);
    expect(ben.committingResolvedBy).toBe('accepted-record');
    const cat = await settled('cat', 'uncertain');
    expect(cat.attempts).toBe(1);
    expect(cat.committingResolvedBy).toBe('uncertain');
    // Ben's was taken by the server before the crash, cat's may have been: neither is sent (again).
    expect(await mailTo(address('ben'))).toHaveLength(0);
    expect(await mailTo(address('cat'))).toHaveLength(0);
  });
});
