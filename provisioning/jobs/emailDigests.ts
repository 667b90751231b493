import { DelayedError, Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import { atMost, metrics, type Config, type Logger } from '../../runtime';
import { parseVirtualUserId, virtualUserId } from '../../appservice';
import {
  ConversationModel,
  EmailDigestModel,
  findAdministrator,
  findCustomer,
  findNetwork,
  findNotificationSettings,
  IndexedMessageModel,
  ReadMarkerModel,
  readMarkerId,
  type EmailDigestDoc,
} from '../../store';
import { closeWorker } from '../workerShutdown';
import { composeDigestEmail, messageText, MESSAGES_PER_CHAT, type DigestChat } from './digestEmail';
import { signUnsubscribeToken } from '../unsubscribeLinks';
import { createMailTransport, sendWithCommitPoint, serverRefused } from './smtpCommitPoint';
import { createDeliveryLookup, type SmtpDeliveryLookup } from './smtpDeliveryLookup';

export { createMailTransport };

/**
 * Batched notification emails. The appservice opens a window per person at their first unread
 * message (appservice/domain/emailDigests.ts, store/emailDigests.ts); a relay here turns each
 * pending window into a delayed BullMQ job whose id is the window id (a window is queued once, also
 * by two relays), due `delayMinutes` after the window's first message. At the due time the job
 * closes the window and sends one email listing what is still unread then: nothing when everything
 * was read meanwhile (portal or Matrix read receipts move the same read markers) or the
 * conversations were muted.
 *
 * Delivery is exactly once except in one moment, and at most once there. The window document is
 * the send record: `closing` before anything is computed; `sending` (with the window's stable
 * Message-ID) before the SMTP transaction opens; `committing` written, and awaited, right before
 * the message's final "." of DATA (smtpCommitPoint.ts); `sent` after the server's 250. A retry that
 * finds `closing` or `sending` computes and sends again: the server cannot have delivered a
 * message whose "." it never got (RFC 5321 §3.8). One that finds `committing` (the worker died
 * between that "." and recording the answer, one round trip plus one write) and no 250 recorded
 * in Redis asks the mail provider by Message-ID (smtpDeliveryLookup.ts, SMTP_DELIVERY_LOOKUP_URL):
 * it has the message: `sent`; it has not (and the "." is older than the settle time, so none is
 * in flight): sent again, same Message-ID; it cannot answer: the job fails and BullMQ retries,
 * `uncertain` only on the last attempt. A connection lost after the commit point without an
 * answer is settled the same way, by the retry. With no lookup configured the window is marked
 * `uncertain` rather than risk a second email (at most once). An SMTP error before the commit
 * point, or a reply refusing the message after it, puts the window back to `closing` and BullMQ
 * retries with backoff.
 */

export const EMAIL_DIGEST_QUEUE = 'email-digest';

const JOB_OPTIONS: JobsOptions = {
  // SMTP down: retried for about an hour (2 s, 4 s, ... doubling, 11 attempts).
  attempts: 12,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 100000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};
const RELAY_INTERVAL_MS = 500;
const RELAY_BATCH = 200;
const SEND_CONCURRENCY = 8;

interface DigestJob {
  digestId: string;
}

export interface EmailDigestsHandle {
  queue: Queue<DigestJob>;
  stop(): Promise<void>;
}

export async function startEmailDigests(connection: Redis, log: Logger, config: Config): Promise<EmailDigestsHandle | null> {
  const smtpUrl = config.email.smtpUrl;
  if (!smtpUrl) {
    log.info('SMTP_URL is not set: no notification emails are sent');
    return null;
  }
  const transport = createMailTransport(smtpUrl);
  const lookup = createDeliveryLookup(config.email.deliveryLookupUrl);
  if (!lookup) log.info('SMTP_DELIVERY_LOOKUP_URL is not set: an email whose answer a crash lost is not resent (at most once)');
  const queue = new Queue<DigestJob>(EMAIL_DIGEST_QUEUE, { connection, defaultJobOptions: JOB_OPTIONS });
  queue.on('error', () => undefined);
  const worker = new Worker<DigestJob>(EMAIL_DIGEST_QUEUE, (job, token) => processDigest(job, token, { config, transport, log, redis: connection, lookup }), {
    connection,
    concurrency: SEND_CONCURRENCY,
    lockDuration: config.jobs.lockSeconds * 1000,
    stalledInterval: config.jobs.stalledCheckSeconds * 1000,
    maxStalledCount: 5,
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    log.warn({ digestId: job.data.digestId, attempts: job.attemptsMade, final, err: err.message }, 'notification email failed');
    if (final) {
      void EmailDigestModel.updateOne({ _id: job.data.digestId, status: { $in: ['closing', 'sending'] } }, { $set: { status: 'failed' } }).catch(() => undefined);
      // Past its final "." and never settled: the server may have it, so not again (at most once).
      void EmailDigestModel.updateOne({ _id: job.data.digestId, status: 'committing' }, { $set: { status: 'uncertain', committingResolvedBy: 'uncertain' } }).catch(() => undefined);
    }
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'email digest worker error'));
  await worker.waitUntilReady();

  const unitMs = config.email.delayUnitMs;
  const enqueue = (d: Pick<EmailDigestDoc, '_id' | 'openedAt' | 'delayMinutes'>) =>
    queue.add('send-digest', { digestId: d._id }, { jobId: d._id, delay: Math.max(0, new Date(d.openedAt).getTime() + d.delayMinutes * unitMs - Date.now()) });
  // As with webhook deliveries: marked "queued" before the job exists; a failed enqueue puts it back.
  const relay = async () => {
    const pending = await EmailDigestModel.find({ status: 'pending' }).sort({ createdAt: 1 }).limit(RELAY_BATCH).lean<EmailDigestDoc[]>();
    for (const d of pending) {
      await EmailDigestModel.updateOne({ _id: d._id, status: 'pending' }, { $set: { status: 'queued' } });
      await enqueue(d).catch(async (err) => {
        await EmailDigestModel.updateOne({ _id: d._id, status: 'queued' }, { $set: { status: 'pending' } }).catch(() => undefined);
        throw err;
      });
    }
  };
  let stopped = false;
  // Windows marked before a crash (or Redis lost their jobs): queued again; the job id keeps one job per window.
  let relaying: Promise<void> = EmailDigestModel.find({ status: { $in: ['queued', 'closing', 'sending', 'committing'] } })
    .select({ _id: 1, openedAt: 1, delayMinutes: 1 })
    .lean<EmailDigestDoc[]>()
    .then(async (windows) => {
      for (const d of windows) await enqueue(d);
    })
    .catch((err) => log.warn({ err: (err as Error).message }, 'could not queue the email windows marked before a restart'));
  const timer = setInterval(() => {
    relaying = relaying.then(() => (stopped ? undefined : relay())).catch((err) => log.warn({ err: (err as Error).message }, 'email relay paused'));
  }, RELAY_INTERVAL_MS);
  log.info('notification emails started');
  return {
    queue,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await relaying;
      await closeWorker(worker, connection);
      transport.close();
      await atMost(queue.close(), 1000);
    },
  };
}

type Outcome = { skipped: string } | { nothing: true } | { sent: string };

/**
 * The server's 250 recorded in Redis first: one round trip, where the window document's update on
 * the database takes several. A retry that finds a window `committing` with this key knows the
 * email was taken. Kept as long as a window's job can be retried.
 */
const ackKey = (digestId: string) => `email-digest:accepted:${digestId}`;
const ACK_TTL_SECONDS = 30 * 24 * 3600;

interface DigestDeps {
  config: Config;
  transport: Transporter;
  log: Logger;
  redis: Redis;
  lookup: SmtpDeliveryLookup | null;
}

/** This attempt is the job's last: nothing retries after it. */
const lastAttempt = (job: Job) => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

async function processDigest(job: Job<DigestJob>, token: string | undefined, deps: DigestDeps): Promise<Outcome> {
  const { config } = deps;
  const digest = await EmailDigestModel.findById(job.data.digestId).lean<EmailDigestDoc>();
  if (!digest) return { skipped: 'unknown window' };
  let sendAgain = false;
  if (digest.status === 'committing') {
    const settled = await settleCommitting(job, token, digest, deps);
    if (settled) return settled;
    // The provider has no such message, and no "." of it can be in flight any more: the server never took it.
    sendAgain = true;
  }
  // `sending`: the previous attempt died before its final ".", so the server delivered nothing.
  if (!sendAgain && !(['queued', 'closing', 'pending', 'sending'] as string[]).includes(digest.status)) return { skipped: digest.status };
  // Closed from here on: a message arriving now opens the person's next window.
  const closedAt = digest.closedAt ? new Date(digest.closedAt) : new Date();
  // Every attempt counts (a retry after an SMTP error or a crash too).
  await EmailDigestModel.updateOne({ _id: digest._id }, { $set: { status: 'closing', closedAt }, $inc: { attempts: 1 } });
  const email = await digestContent({ ...digest, closedAt }, config);
  if ('nothing' in email) {
    await EmailDigestModel.updateOne({ _id: digest._id }, { $set: { status: 'nothing', nothingBecause: email.nothing } });
    return { nothing: true };
  }
  // The intent, with the Message-ID the email will carry, before the SMTP transaction opens.
  await EmailDigestModel.updateOne({ _id: digest._id }, { $set: { status: 'sending', sendingAt: new Date(), emailMessageId: email.message.messageId } });
  // From the final "." on until the server's answer is recorded: the only moment a crash leaves the outcome unknown.
  let dotAt = 0;
  let uncertainMs: number | undefined;
  try {
    await sendWithCommitPoint(deps.transport, email.message, async () => {
      await EmailDigestModel.updateOne({ _id: digest._id }, { $set: { status: 'committing', committingAt: new Date() } });
      dotAt = performance.now();
    });
    await atMost(deps.redis.set(ackKey(digest._id), email.message.messageId, 'EX', ACK_TTL_SECONDS), 2000).catch(() => undefined);
    uncertainMs = Math.round((performance.now() - dotAt) * 10) / 10;
    metrics.emailsSent.inc();
  } catch (err) {
    metrics.emailsFailed.inc();
    const lastError = (err as Error).message.slice(0, 500);
    if ((err as { committed?: boolean }).committed && !serverRefused(err)) {
      // The "." was sent, no answer came (connection lost, timeout): the server may have it. The
      // window stays `committing`: the retry asks the provider (settleCommitting).
      if (deps.lookup && !lastAttempt(job)) {
        await EmailDigestModel.updateOne({ _id: digest._id }, { $set: { lastError } });
        throw err;
      }
      await EmailDigestModel.updateOne({ _id: digest._id }, { $set: { status: 'uncertain', committingResolvedBy: 'uncertain', lastError } });
      deps.log.warn({ digestId: digest._id, err: lastError }, 'notification email may or may not have been sent (no answer to the message); not sent again');
      return { skipped: 'uncertain' };
    }
    // Nothing was accepted (the server answers 250 only once it has the whole message): retry later.
    await EmailDigestModel.updateOne({ _id: digest._id }, { $set: { status: 'closing', lastError } });
    throw err;
  }
  await EmailDigestModel.updateOne(
    { _id: digest._id },
    { $set: { status: 'sent', sentAt: new Date(), uncertainMs, emailMessageId: email.message.messageId, listedChats: email.chats, listedMessages: email.messages }, $unset: { lastError: 1 } },
  );
  return { sent: email.message.messageId };
}

/**
 * A window found `committing`: the previous attempt passed the message's final "." and its answer
 * was not recorded on the window. Settled when the answer is known (the window is `sent` or
 * `uncertain`); null: the server never took the message, send it again.
 */
async function settleCommitting(job: Job<DigestJob>, token: string | undefined, digest: EmailDigestDoc, deps: DigestDeps): Promise<Outcome | null> {
  const committing = { _id: digest._id, status: 'committing' as const };
  const accepted = await deps.redis.get(ackKey(digest._id));
  if (accepted) {
    // The previous attempt died after the server's 250 was recorded in Redis: it was sent.
    await EmailDigestModel.updateOne(committing, { $set: { status: 'sent', sentAt: new Date(), emailMessageId: accepted, committingResolvedBy: 'accepted-record' }, $unset: { lastError: 1 } });
    return { sent: accepted };
  }
  const uncertain = async (why: string) => {
    await EmailDigestModel.updateOne(committing, { $set: { status: 'uncertain', committingResolvedBy: 'uncertain' } });
    deps.log.warn({ digestId: digest._id }, `notification email may or may not have been sent (${why}); not sent again`);
    return { skipped: 'uncertain' };
  };
  // No way to ask: at most once, so not again.
  if (!deps.lookup) return uncertain("the worker died awaiting the server's answer to the message");
  const messageId = digest.emailMessageId;
  if (!messageId) return uncertain('no Message-ID recorded');
  let answer;
  try {
    answer = await deps.lookup.find(messageId);
  } catch (err) {
    metrics.emailDeliveryLookups.inc({ outcome: 'failed' });
    // Provider down: ask again later (BullMQ's backoff); only the last attempt gives up.
    if (lastAttempt(job)) return uncertain(`${deps.lookup.describe} could not be asked on the last attempt: ${(err as Error).message}`);
    await EmailDigestModel.updateOne(committing, { $set: { lastError: `delivery lookup: ${(err as Error).message}`.slice(0, 500) } });
    throw err;
  }
  if (answer === 'accepted') {
    metrics.emailDeliveryLookups.inc({ outcome: 'accepted' });
    await EmailDigestModel.updateOne(committing, { $set: { status: 'sent', sentAt: new Date(), emailMessageId: messageId, committingResolvedBy: 'lookup-accepted' }, $unset: { lastError: 1 } });
    deps.log.info({ digestId: digest._id }, `notification email found at ${deps.lookup.describe}: sent`);
    return { sent: messageId };
  }
  // Absent. A "." written just now may still be on its way or being stored: believed once the
  // settle time has passed since the commit point; until then the job waits (not an attempt).
  const trustedAt = (digest.committingAt ? new Date(digest.committingAt).getTime() : 0) + deps.config.email.deliveryLookupSettleSeconds * 1000;
  if (Date.now() < trustedAt && token) {
    await job.moveToDelayed(trustedAt, token);
    throw new DelayedError();
  }
  metrics.emailDeliveryLookups.inc({ outcome: 'absent' });
  await EmailDigestModel.updateOne(committing, { $set: { committingResolvedBy: 'lookup-absent' } });
  deps.log.info({ digestId: digest._id }, `notification email not at ${deps.lookup.describe}: sent again`);
  return null;
}

/** The email of a closed window, or why there is none (nothing unread or wanted any more). */
async function digestContent(digest: EmailDigestDoc & { closedAt: Date }, config: Config) {
  const kind = digest.personKind as 'customer' | 'admin';
  const [settings, network] = await Promise.all([findNotificationSettings(digest.networkId, kind, digest.personId), findNetwork(digest.networkId)]);
  if (!network) return { nothing: 'network gone' };
  if (!settings.email) return { nothing: 'no address' };
  if (settings.emailEnabled === false) return { nothing: 'email switched off' };
  if (kind === 'customer' && (await findCustomer(digest.networkId, digest.personId))?.status !== 'active') return { nothing: 'not an active customer' };
  if (kind === 'admin' && (await findAdministrator(digest.networkId, digest.personId))?.status !== 'active') return { nothing: 'not an active administrator' };
  const me = virtualUserId({ kind, networkId: digest.networkId, id: digest.personId }, config.matrixDomain);
  // What the person's previous window already covered (coversAfter) is not listed again.
  const from = Math.max(new Date(digest.openedAt).getTime() - 1, digest.coversAfter ? new Date(digest.coversAfter).getTime() : 0);
  const chats: DigestChat[] = [];
  for (const chatId of await candidateChats(digest, kind, new Date(from))) {
    if ((settings.mutedChatIds ?? []).includes(chatId)) continue;
    const [conversation, marker] = await Promise.all([
      ConversationModel.findById(chatId).lean(),
      ReadMarkerModel.findById(readMarkerId(chatId, { kind, id: digest.personId })).select({ readAt: 1 }).lean(),
    ]);
    if (!conversation) continue;
    const after = Math.max(from, marker?.readAt ? new Date(marker.readAt).getTime() : 0);
    const filter = { chatId, redacted: false, senderMatrixId: { $ne: me }, sentAt: { $gt: new Date(after), $lte: digest.closedAt } };
    const [unread, latest] = await Promise.all([
      IndexedMessageModel.countDocuments(filter, { limit: 100 }),
      IndexedMessageModel.find(filter).sort({ sentAt: -1 }).limit(MESSAGES_PER_CHAT).lean(),
    ]);
    if (unread === 0) continue;
    const names = new Map<string, string>();
    const nameOf = async (matrixId: string): Promise<string> => {
      if (!names.has(matrixId)) names.set(matrixId, await senderName(matrixId, conversation, network.name, config.matrixDomain));
      return names.get(matrixId)!;
    };
    chats.push({
      chatId,
      title: await chatTitle(conversation, kind, digest.personId, network.name),
      link: `${config.email.webClientUrl}/chat/#/chats/${encodeURIComponent(chatId)}`,
      unread,
      messages: await Promise.all(
        latest.reverse().map(async (m) => ({ senderName: await nameOf(m.senderMatrixId), text: messageText(m.msgtype, m.preview ?? ''), at: m.sentAt })),
      ),
    });
  }
  if (chats.length === 0) return { nothing: `nothing unread after ${new Date(from).toISOString()} in ${digest.chatIds.length} conversation(s) (read or muted)` };
  const expiresAt = new Date(Date.now() + config.email.linkTtlDays * 86400_000);
  const unsubscribeUrl = `${config.email.portalPublicUrl}/v1/email/unsubscribe?token=${signUnsubscribeToken(config.email.linkSecret!, digest.personKey, expiresAt)}`;
  const composed = composeDigestEmail({
    networkName: network.name,
    chats,
    unsubscribeUrl,
    settingsHint: 'You get this email because messages waited unread for you. Mute a conversation or change the delay in your notification settings.',
  });
  const fromAddress = nodemailerAddress(config.email.from);
  return {
    chats: chats.length,
    messages: chats.reduce((n, c) => n + c.messages.length, 0),
    message: {
      // The sender name per network, the operator's address.
      from: { name: network.name, address: fromAddress },
      to: settings.email,
      subject: composed.subject,
      text: composed.text,
      html: composed.html,
      // One Message-ID per window: a receiving system that saw it already can drop a copy.
      messageId: `<${digest._id}@${fromAddress.split('@')[1] ?? 'localhost'}>`,
      list: { unsubscribe: { url: unsubscribeUrl, comment: 'Unsubscribe' } },
      headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-Chat-Digest': digest._id },
    },
  };
}

/**
 * The conversations the window may list: those the appservice noted on it, and every conversation
 * of the person with activity since the window's start. The second set makes the email right even
 * when a note was lost (FerretDB 1.24 applies concurrent updates of one document as read, so the
 * appservice's note and this worker's status change can overwrite each other); what is listed is
 * decided by the index, the read markers and the mutes either way.
 */
async function candidateChats(digest: EmailDigestDoc, kind: 'customer' | 'admin', since: Date): Promise<string[]> {
  const filter: Record<string, unknown> =
    kind === 'customer'
      ? { networkId: digest.networkId, customerIds: digest.personId, lastActivityAt: { $gt: since } }
      : { networkId: digest.networkId, kind: 'support', lastActivityAt: { $gt: since } };
  const active = await ConversationModel.find(filter).select({ _id: 1 }).limit(500).lean<Array<{ _id: string }>>();
  return [...new Set([...digest.chatIds, ...active.map((c) => c._id)])];
}

/** How a conversation is named for this reader (as the portal's lists name it). */
async function chatTitle(conversation: { kind: string; networkId: string; customerIds: string[]; startedBy: string }, kind: 'customer' | 'admin', personId: string, networkName: string): Promise<string> {
  if (conversation.kind === 'support') {
    if (kind === 'customer') return `${networkName} support`;
    const customer = await findCustomer(conversation.networkId, conversation.customerIds[0] ?? '');
    return `Support chat with ${customer?.displayName ?? 'a customer'}`;
  }
  const other = conversation.customerIds.find((id) => id !== personId);
  const customer = other ? await findCustomer(conversation.networkId, other) : null;
  return customer ? `Chat with ${visibleName(customer, conversation)}` : 'A chat';
}

/**
 * A sender as the email names them. Administrators are the network's team (customers never see
 * which administrator answered, and neither does the email). A customer who hides their name and
 * did not start the conversation is not named (rule 5's spirit: the email is no way around it).
 */
async function senderName(matrixId: string, conversation: { networkId: string; startedBy: string }, networkName: string, domain: string): Promise<string> {
  const ref = parseVirtualUserId(matrixId, domain);
  if (!ref) return networkName;
  if (ref.kind === 'admin') return `${networkName} team`;
  const customer = await findCustomer(conversation.networkId, ref.id);
  return customer ? visibleName(customer, conversation) : 'A member';
}

function visibleName(customer: { customerId: string; displayName: string; hideNameOnBookings?: boolean | null }, conversation: { startedBy: string }): string {
  return customer.hideNameOnBookings && conversation.startedBy !== customer.customerId ? 'A member' : customer.displayName;
}

/** The address part of EMAIL_FROM ("Name <a@b>" or "a@b"). */
function nodemailerAddress(from: string): string {
  const m = /<([^>]+)>/.exec(from);
  return (m ? m[1]! : from).trim();
}
