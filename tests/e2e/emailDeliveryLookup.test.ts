import { Queue } from 'bullmq';
import { EMAIL_DIGEST_QUEUE } from '../../provisioning';
import { createMailTransport, sendWithCommitPoint } from '../../provisioning/jobs/smtpCommitPoint';
import { createWorkerConnection } from '../../provisioning/redisConnection';
import { EmailDigestModel, notificationSettingsId } from '../../store';
import { eventually, startServices, testConfig, type TestServices } from '../support/harness';
import { mailpitUrl, mailTo } from '../support/mailpit';
import { startApiFront, startSmtpRelay, type ApiFront, type SmtpRelay } from '../support/smtpRelay';
import { createNetwork, type NetworkFixture } from './networkFixture';

/**
 * A window left `committing` (the final "." was written, its answer never recorded) is settled by
 * asking the mail provider, the test stack's real Mailpit, by Message-ID (README "Notifications",
 * provisioning/jobs/smtpDeliveryLookup.ts). The worker sends through a loopback relay in front of
 * Mailpit (tests/support/smtpRelay.ts) that can lose a message's final "." and cut the
 * connection, and asks Mailpit's API through a front that can answer 503 (the provider down).
 */
describe('an email whose answer was lost is settled by asking the mail provider', () => {
  let s: TestServices;
  let n: NetworkFixture;
  let relay: SmtpRelay;
  let api: ApiFront;
  const connection = createWorkerConnection(testConfig().redisUrl);
  const queue = new Queue(EMAIL_DIGEST_QUEUE, { connection });
  const people = ['ann', 'ben', 'cat', 'dan', 'eve'] as const;
  const address = (who: string) => `${who}.${n.net}@lookup.test`;
  const windows: Record<string, string> = {};

  beforeAll(async () => {
    relay = await startSmtpRelay(process.env.SMTP_URL!);
    api = await startApiFront(mailpitUrl());
    s = await startServices({
      SMTP_URL: relay.url,
      SMTP_DELIVERY_LOOKUP_URL: `mailpit+${api.url}`,
      SMTP_DELIVERY_LOOKUP_SETTLE_SECONDS: '1',
      EMAIL_DELAY_UNIT_MS: '500',
    });
    n = await createNetwork(s, { customers: { sam: { displayName: 'Sam' }, ...Object.fromEntries(people.map((p) => [p, { displayName: p }])) } });
    for (const who of people) {
      expect((await s.api('PUT', `/v1/networks/${n.net}/customers/${who}`, n.service, { kind: 'member', displayName: who, email: address(who) })).status).toBe(200);
      // Due in 12 minutes: each job waits until its test runs it.
      expect((await s.api('PATCH', '/v1/me/notification-settings', n.customer(who), { email: { delayMinutes: 1440 } })).status).toBe(200);
      const chat = (await s.api('POST', '/v1/chats', n.customer('sam'), { userId: who })).body;
      expect((await s.api('POST', `/v1/chats/${chat.id}/messages`, n.customer('sam'), { txnId: `lookup-${who}`, body: `hello ${who}` })).status).toBe(201);
      const personKey = notificationSettingsId(n.net, 'customer', who);
      windows[who] = await eventually(`${who}'s window queued`, async () => (await EmailDigestModel.findOne({ personKey, status: 'queued' }).lean())?._id);
    }
  });
  afterAll(async () => {
    await queue.close();
    connection.disconnect();
    await s?.stop();
    await relay?.close();
    await api?.close();
  });

  const messageIdOf = (who: string) => `<${windows[who]}@localhost>`;
  const windowOf = async (who: string) => (await EmailDigestModel.findById(windows[who]).lean())!;
  const settled = (who: string, status: string) =>
    eventually(`${who}'s window ${status}`, async () => {
      const w = await windowOf(who);
      return w.status === status && w;
    }, 30000);
  const mailCount = async (who: string) => (await mailTo(address(who))).length;
  const run = async (who: string) => (await queue.getJob(windows[who]!))!.promote();

  /**
   * What a worker that dies right after the server's 250, before recording it, leaves: the window
   * `committing` with its Message-ID, the message in Mailpit, nothing in Redis. Done with the real
   * commit point against Mailpit; only the record of the 250 is skipped, as the kill skips it.
   */
  const diedAfterTheServersAnswer = async (who: string) => {
    const transport = createMailTransport(process.env.SMTP_URL!);
    try {
      const closedAt = new Date();
      await EmailDigestModel.updateOne({ _id: windows[who] }, { $set: { status: 'sending', closedAt, sendingAt: closedAt, attempts: 1, emailMessageId: messageIdOf(who) } });
      await sendWithCommitPoint(transport, { from: 'notifications@localhost', to: address(who), subject: 'Unread messages', text: `hello ${who}\n`, messageId: messageIdOf(who) }, async () => {
        await EmailDigestModel.updateOne({ _id: windows[who] }, { $set: { status: 'committing', committingAt: new Date() } });
      });
    } finally {
      transport.close();
    }
    expect(await connection.get(`email-digest:accepted:${windows[who]}`)).toBeNull();
  };

  test('died after Mailpit answered 250, before recording it: the retry finds the email at Mailpit, sent, no second email', async () => {
    await diedAfterTheServersAnswer('ann');
    expect(await mailCount('ann')).toBe(1);
    await run('ann');
    const ann = await settled('ann', 'sent');
    expect(ann.committingResolvedBy).toBe('lookup-accepted');
    expect(ann.emailMessageId).toBe(messageIdOf('ann'));
    expect(ann.attempts).toBe(1);
    expect(await mailCount('ann')).toBe(1);
  });

  test('the final "." never reached Mailpit, the connection was cut: the lookup says absent, sent again, exactly one email', async () => {
    const cutsBefore = relay.cuts;
    relay.loseNextFinalDot();
    await run('ben');
    // The worker wrote `committing` and the "."; the relay kept the "." from Mailpit and cut the line.
    const ben = await settled('ben', 'sent');
    expect(relay.cuts).toBe(cutsBefore + 1);
    expect(ben.committingResolvedBy).toBe('lookup-absent');
    expect(ben.attempts).toBe(2);
    expect(ben.emailMessageId).toBe(messageIdOf('ben'));
    const mails = await mailTo(address('ben'));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.Subject).toMatch(/^1 new message in Chat with Sam/);
  });

  test('died between writing the "." and any answer, the "." lost: absent, believed after the settle time, sent once', async () => {
    // What the kill leaves when the "." died with the worker: `committing`, just now, nothing at Mailpit.
    const now = new Date();
    await EmailDigestModel.updateOne({ _id: windows.cat }, { $set: { status: 'committing', closedAt: now, sendingAt: now, committingAt: now, attempts: 1, emailMessageId: messageIdOf('cat') } });
    await run('cat');
    const cat = await settled('cat', 'sent');
    expect(cat.committingResolvedBy).toBe('lookup-absent');
    // Not before the settle time (1 s here) after the commit point: a "." in flight could still be taken.
    expect(new Date(cat.sendingAt!).getTime() - now.getTime()).toBeGreaterThanOrEqual(1000);
    expect(cat.attempts).toBe(2);
    expect(await mailCount('cat')).toBe(1);
  });

  test('the provider cannot be asked: the job is retried with backoff and the window stays committing, then settled once it answers', async () => {
    await diedAfterTheServersAnswer('dan');
    api.down = true;
    try {
      await run('dan');
      const job = await eventually('two failed attempts', async () => {
        const j = await queue.getJob(windows.dan!);
        return j && j.attemptsMade >= 2 && j;
      }, 30000);
      expect(job.failedReason).toMatch(/503/);
      const dan = await windowOf('dan');
      expect(dan.status).toBe('committing');
      expect(dan.lastError).toMatch(/delivery lookup: .*503/);
    } finally {
      api.down = false;
    }
    const dan = await settled('dan', 'sent');
    expect(dan.committingResolvedBy).toBe('lookup-accepted');
    expect(await mailCount('dan')).toBe(1);
  });

  test('the provider cannot be asked on the last attempt: uncertain, not sent again', async () => {
    await diedAfterTheServersAnswer('eve');
    // The same job with two attempts and a short backoff, so that the last one comes now.
    await (await queue.getJob(windows.eve!))!.remove();
    await queue.add('send-digest', { digestId: windows.eve }, { jobId: windows.eve, attempts: 2, backoff: { type: 'fixed', delay: 200 } });
    api.down = true;
    try {
      const eve = await settled('eve', 'uncertain');
      expect(eve.committingResolvedBy).toBe('uncertain');
      // Two attempts: the first failed and was retried, the last one gave up.
      expect((await queue.getJob(windows.eve!))!.attemptsStarted).toBe(2);
    } finally {
      api.down = false;
    }
    expect(await mailCount('eve')).toBe(1);
  });
});
