import type { BenchStack } from '../bench/support/benchStack';
import { eventually, inLanes } from '../bench/support/benchStack';
import { createNetwork } from '../bench/support/networkFixture';
import type { ServiceProcess } from '../bench/support/serviceProcess';
import { EmailDigestModel, type EmailDigestStatus } from '../store';
import type { ScenarioResult } from './scenarioResult';
import { startSmtpRelay } from '../tests/support/smtpRelay';

const PEOPLE = 200;
/** Of them, this many read their conversation before the emails are due: they must get none. */
const READERS = 20;

/**
 * R9: 200 people with an unread direct message each (20 of them read it before it is due); the
 * worker (its own process) is SIGKILLed twice during the digest run (when Mailpit holds 30 emails,
 * and again the moment a window is seen `committing`) and Mailpit is restarted once during it. The
 * worker sends through a loopback relay (tests/support/smtpRelay.ts) that holds each message's
 * final "." 150 ms before Mailpit gets it and Mailpit's 250 150 ms before the worker gets it: the
 * uncertain moment, milliseconds on a real link, lasts long enough for the kills to land in it,
 * both before Mailpit has the message (the "." dies with the worker) and after. Every unread person receives exactly one email for their window (counted per recipient
 * through Mailpit's API, each carrying its window's Message-ID), no reader receives one.
 *
 * A kill before a message's final "." leaves the window `sending` and it is sent again (nothing
 * was delivered); a kill between that "." and recording the server's answer leaves it
 * `committing`, and the retry settles it (README "Notifications"): by the 250 recorded in Redis,
 * or by asking Mailpit by Message-ID (the local stack sets SMTP_DELIVERY_LOOKUP_URL): there, sent;
 * not there, sent again. Every window found `committing` is counted by how it was settled; one
 * left `uncertain` (nobody could tell: not resent) fails the run, and so does a send that never
 * passed its commit point. The counts include how long the uncertain moment lasted per email
 * (committing -> sent), measured.
 */
export async function emailDigests(b: BenchStack, worker: ServiceProcess): Promise<ScenarioResult> {
  const mailpit = b.stack.mail;
  if (!mailpit.webUrl) return { id: 'R9', title: 'could not run', counts: {}, problems: ['SMTP_URL is set: R9 needs the local Mailpit'] };
  const people = Array.from({ length: PEOPLE }, (_, i) => `p${String(i).padStart(3, '0')}`);
  const net = await createNetwork(b, { customers: { sender: 'Sam Sender', ...Object.fromEntries(people.map((p) => [p, `Person ${p}`])) }, provisionTimeoutMs: 180000 });
  const address = (p: string) => `${p}.${net.net}@r9.test`;
  await inLanes(people, 16, async (p) => {
    await b.ok('PUT', `/v1/networks/${net.net}/customers/${p}`, net.service, { kind: 'member', displayName: `Person ${p}`, locationIds: ['loc-1'], email: address(p) });
  });

  // The worker is away while the messages arrive: every window is due when it comes back, so its
  // start is the digest run.
  await worker.stop();
  const relay = await startSmtpRelay(mailpit.smtpUrl, { holdFinalDotMs: 150, holdAnswerMs: 150 });
  const sender = b.child('worker', { SMTP_URL: relay.url });
  const chats = new Map<string, string>();
  await inLanes(people, 8, async (p, i) => {
    const chat = await b.ok('POST', '/v1/chats', net.customer('sender'), { userId: p });
    const sent = await b.ok('POST', `/v1/chats/${chat.id}/messages`, net.customer('sender'), { txnId: `r9-${i}`, body: `hello ${p}, from R9` });
    chats.set(p, chat.id);
    if (i < READERS) await b.ok('POST', `/v1/chats/${chat.id}/read`, net.customer(p), { messageId: sent.id });
  });
  await eventually('a window for every person', async () => (await EmailDigestModel.countDocuments({ networkId: net.net })) >= PEOPLE, 120000, 250);

  const mailCount = async () => {
    const res = await fetch(`${mailpit.webUrl}/api/v1/messages?limit=1`).catch(() => null);
    return res?.ok ? ((await res.json()) as { total: number }).total : -1;
  };
  const before = await mailCount();
  await sender.start();
  await eventually('the first emails', async () => (await mailCount()) - before >= 30, 120000, 20);
  const killedAfter = (await mailCount()) - before;
  await sender.kill();
  await new Promise((r) => setTimeout(r, 500));
  const restartedAt = new Date();
  await sender.start();
  // A second kill aimed at the uncertain moment itself: as soon as a window of this run is seen
  // `committing` (its final "." due or written, the server's answer not recorded yet).
  const committingAtKill = await eventually(
    'a window committing',
    async () => {
      const n = await EmailDigestModel.countDocuments({ networkId: net.net, status: 'committing', committingAt: { $gt: restartedAt } });
      return n > 0 && n;
    },
    120000,
    1,
  );
  await sender.kill();
  const secondKillAfter = (await mailCount()) - before;
  await new Promise((r) => setTimeout(r, 500));
  await sender.start();
  await eventually('more emails', async () => (await mailCount()) - before >= 90, 120000, 20);
  const restartedAfter = (await mailCount()) - before;
  await mailpit.restart(1000);

  const settled: EmailDigestStatus[] = ['sent', 'nothing', 'uncertain', 'failed'];
  await eventually('every window settled', async () => (await EmailDigestModel.countDocuments({ networkId: net.net, status: { $nin: settled } })) === 0, 300000, 500);
  await sender.stop();
  await relay.close();
  const windows = await EmailDigestModel.find({ networkId: net.net }).select({ personId: 1, status: 1, attempts: 1, emailMessageId: 1, sendingAt: 1, committingAt: 1, sentAt: 1, uncertainMs: 1, committingResolvedBy: 1 }).lean();
  const statusCount = (s: string) => windows.filter((w) => w.status === s).length;
  // Windows a retry found `committing` (the answer to their final "." not recorded), by how they were settled.
  const resolvedBy = (how: string) => windows.filter((w) => w.committingResolvedBy === how).length;

  // What arrived, per address.
  const received = new Map<string, number>();
  const messageIds = new Map<string, string[]>();
  for (let start = 0; ; start += 1000) {
    const page = (await (await fetch(`${mailpit.webUrl}/api/v1/messages?start=${start}&limit=1000`)).json()) as { messages: Array<{ MessageID: string; To: Array<{ Address: string }> }> };
    for (const m of page.messages) {
      for (const to of m.To) {
        const a = to.Address.toLowerCase();
        received.set(a, (received.get(a) ?? 0) + 1);
        messageIds.set(a, [...(messageIds.get(a) ?? []), m.MessageID]);
      }
    }
    if (page.messages.length < 1000) break;
  }
  // Each email is its window's: the Message-ID recorded with the intent to send.
  const windowMessageIds = new Map(windows.map((w) => [w.personId, (w.emailMessageId ?? '').replace(/^<|>$/g, '')]));
  const foreignIds = people.filter((p) => (messageIds.get(address(p).toLowerCase()) ?? []).some((id) => id !== windowMessageIds.get(p))).length;
  // The moment a kill would leave uncertain, per email sent: the final "." to the answer recorded.
  const sent = windows.filter((w) => w.status === 'sent');
  const uncertainMs = sent.filter((w) => typeof w.uncertainMs === 'number').map((w) => w.uncertainMs!);
  const sendingMs = sent.filter((w) => w.sendingAt && w.sentAt).map((w) => new Date(w.sentAt!).getTime() - new Date(w.sendingAt!).getTime());
  const median = (xs: number[]) => (xs.length ? xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : -1);
  const readers = new Set(people.slice(0, READERS));
  let once = 0;
  let twice = 0;
  let none = 0;
  let readersEmailed = 0;
  for (const p of people) {
    const n = received.get(address(p).toLowerCase()) ?? 0;
    if (readers.has(p)) {
      if (n > 0) readersEmailed++;
      continue;
    }
    if (n === 1) once++;
    else if (n > 1) twice++;
    else none++;
  }
  const uncertain = statusCount('uncertain');
  const problems: string[] = [];
  if (twice > 0) problems.push(`${twice} people received more than one email for their window`);
  if (readersEmailed > 0) problems.push(`${readersEmailed} people who had read their conversation received an email`);
  if (none > 0) problems.push(`${none} unread people received no email (${uncertain} windows uncertain: their SMTP exchange was cut by the kill)`);
  if (uncertain > 0) problems.push(`${uncertain} windows uncertain (the kill fell between a final "." and recording the answer, and the delivery lookup could not settle it)`);
  if (statusCount('failed') > 0) problems.push(`${statusCount('failed')} windows failed`);
  if (foreignIds > 0) problems.push(`${foreignIds} people received an email whose Message-ID is not their window's`);
  const uncommitted = sent.filter((w) => !w.committingAt).length;
  if (uncommitted > 0) problems.push(`${uncommitted} emails were sent without passing their commit point`);
  if (killedAfter >= PEOPLE - READERS) problems.push('every email was sent before the kill: nothing was tested');
  return {
    id: 'R9',
    title: `${PEOPLE} people with unread messages, worker SIGKILLed twice during the digest run (its uncertain moment stretched to 300 ms by a relay), Mailpit restarted once`,
    counts: {
      people: PEOPLE,
      readMeanwhile: READERS,
      killedAfterEmails: killedAfter,
      // The second kill: emails in Mailpit then, windows seen committing just before it.
      killedAgainAfterEmails: secondKillAfter,
      committingAtSecondKill: committingAtKill,
      mailpitRestartedAfterEmails: restartedAfter,
      emailedOnce: once,
      emailedTwice: twice,
      notEmailed: none,
      readersEmailed,
      windowsSent: statusCount('sent'),
      windowsNothing: statusCount('nothing'),
      windowsUncertain: uncertain,
      // Found `committing` by a retry, settled by: the 250 in Redis / the lookup finding the email / the lookup not finding it (sent again) / nobody (uncertain).
      // Final dots the relay held when their worker was killed: never reached Mailpit.
      dotsLostWithTheWorker: relay.dotsLost,
      committingFound: windows.filter((w) => w.committingResolvedBy).length,
      committingSettledByRecorded250: resolvedBy('accepted-record'),
      committingSettledByLookupFound: resolvedBy('lookup-accepted'),
      committingSettledByLookupAbsentResent: resolvedBy('lookup-absent'),
      committingLeftUncertain: resolvedBy('uncertain'),
      mailpitMessages: [...received.values()].reduce((a, n) => a + n, 0),
      // Tried more than once: taken over after the kill, or retried after Mailpit's restart.
      windowsRetried: windows.filter((w) => (w.attempts ?? 0) > 1).length,
      // ms, median and max over the emails sent: whole SMTP exchange, and its uncertain moment.
      smtpExchangeMsMedian: median(sendingMs),
      uncertainMomentMsMedian: median(uncertainMs),
      uncertainMomentMsMax: uncertainMs.length ? Math.max(...uncertainMs) : -1,
    },
    problems,
  };
}

