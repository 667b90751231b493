import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeWorker } from '../workerShutdown';
import { fetch, type Dispatcher } from 'undici';
import { assertPublicDestination, privateDestinationRefusal, webhookDispatcher } from './webhookDestination';
import { atMost, type Logger } from '../../runtime';
import { WebhookDeliveryModel, NetworkModel } from '../../store';

/**
 * The outbound channel of admin notifications: each pending webhook delivery (written by the
 * appservice, appservice/domain/adminNotifications.ts) becomes a BullMQ job that POSTs the payload
 * to the network's webhook URL, signed per Standard Webhooks (the `standardwebhooks` library:
 * `webhook-id` = the delivery id, the same on every retry; `webhook-timestamp`; `webhook-signature`
 * `v1,<base64 HMAC-SHA256>` with the network's secret as the raw key), retried with exponential
 * backoff. The older `X-Chat-Signature-256` header is still sent for one release (deprecated).
 *
 * A relay moves pending deliveries from MongoDB into the queue; the job id is the delivery id, so
 * two relays (or a relay restarted between enqueue and marking) queue a delivery once.
 */

export const NOTIFICATION_DELIVERY_QUEUE = 'notification-delivery';
export const SIGNATURE_HEADER = 'X-Chat-Signature-256';

const JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
const RELAY_INTERVAL_MS = 500;
const RELAY_BATCH = 100;
const DELIVERY_TIMEOUT_MS = 10000;

interface DeliveryJob {
  deliveryId: string;
}

/**
 * The Standard Webhooks headers of one attempt. The network's webhook secret is the raw key:
 * receivers verify with `new Webhook(secret, { format: 'raw' })` (or with the `whsec_` form of
 * its base64).
 */
export function standardWebhookHeaders(secret: string, deliveryId: string, body: string, at = new Date()): Record<string, string> {
  const signature = new Webhook(secret, { format: 'raw' }).sign(deliveryId, at, body);
  return { 'webhook-id': deliveryId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
}

/** Deprecated (kept one release): `sha256=<hex>` of the exact body bytes under the network's secret. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface NotificationDeliveryHandle {
  queue: Queue<DeliveryJob>;
  stop(): Promise<void>;
}

export async function startNotificationDelivery(
  connection: Redis,
  log: Logger,
  opts: { allowPrivateAddresses: boolean },
): Promise<NotificationDeliveryHandle> {
  const queue = new Queue<DeliveryJob>(NOTIFICATION_DELIVERY_QUEUE, { connection, defaultJobOptions: JOB_OPTIONS });
  // The connection's owner logs its errors; without a listener BullMQ prints each one to stderr.
  queue.on('error', () => undefined);
  const dispatcher = webhookDispatcher(opts);
  const worker = new Worker<DeliveryJob>(NOTIFICATION_DELIVERY_QUEUE, (job) => deliver(job, log, { ...opts, dispatcher }), { connection, concurrency: 4 });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    log.warn({ deliveryId: job.data.deliveryId, attempts: job.attemptsMade, final, err: err.message }, 'webhook delivery failed');
    void WebhookDeliveryModel.updateOne(
      { _id: job.data.deliveryId, status: { $ne: 'delivered' } },
      { $set: { attempts: job.attemptsMade, lastError: err.message.slice(0, 500), ...(final ? { status: 'failed' } : {}) } },
    ).catch(() => undefined);
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'notification delivery worker error'));
  await worker.waitUntilReady();

  let stopped = false;
  const enqueue = (deliveryId: string) => queue.add('deliver-webhook', { deliveryId }, { jobId: deliveryId });
  // Marked "queued" before the job exists, so that once it does only the job writes the delivery:
  // FerretDB applies an update to the document as it read it, so a "queued" mark landing after the
  // job's "delivered" would undo it (the delivery stayed "queued" for good). A failed enqueue puts
  // the mark back; one a crash interrupted is queued again at the next start (the job id keeps a
  // delivery that was queued after all from being queued twice).
  const relay = async () => {
    const pending = await WebhookDeliveryModel.find({ status: 'pending' }).sort({ createdAt: 1 }).limit(RELAY_BATCH).lean();
    for (const delivery of pending) {
      await WebhookDeliveryModel.updateOne({ _id: delivery._id, status: 'pending' }, { $set: { status: 'queued' } });
      await enqueue(delivery._id).catch(async (err) => {
        await WebhookDeliveryModel.updateOne({ _id: delivery._id, status: 'queued' }, { $set: { status: 'pending' } }).catch(() => undefined);
        throw err;
      });
    }
  };
  let relaying: Promise<void> = WebhookDeliveryModel.find({ status: 'queued' })
    .select({ _id: 1 })
    .lean()
    .then(async (queued) => {
      for (const delivery of queued) await enqueue(delivery._id);
    })
    .catch((err) => log.warn({ err: (err as Error).message }, 'could not queue the deliveries marked before a restart'));
  const timer = setInterval(() => {
    relaying = relaying
      .then(() => (stopped ? undefined : relay()))
      // MongoDB or Redis down: pending deliveries stay pending and the next tick tries again.
      .catch((err) => log.warn({ err: (err as Error).message }, 'webhook relay paused'));
  }, RELAY_INTERVAL_MS);

  log.info('notification delivery started');
  return {
    queue,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await relaying;
      await closeWorker(worker, connection);
      await dispatcher.close();
      // With Redis gone a queue's close waits for a reconnect that never comes: bounded.
      await atMost(queue.close(), 1000);
    },
  };
}

async function deliver(
  job: Job<DeliveryJob>,
  log: Logger,
  opts: { allowPrivateAddresses: boolean; dispatcher: Dispatcher },
): Promise<{ status: number } | { skipped: string }> {
  const delivery = await WebhookDeliveryModel.findById(job.data.deliveryId).lean();
  if (!delivery || delivery.status === 'delivered') return { skipped: 'already delivered' };
  const network = await NetworkModel.findById(delivery.networkId).lean();
  const url = network?.notifications?.webhookUrl;
  const secret = network?.notifications?.webhookSecret;
  if (!url || !secret) {
    // The channel was switched off after the message arrived: nothing to send.
    await WebhookDeliveryModel.updateOne({ _id: delivery._id }, { $set: { status: 'skipped' } });
    return { skipped: 'no webhook configured' };
  }
  if (!opts.allowPrivateAddresses) assertPublicDestination(new URL(url));
  const res = await fetch(url, {
    dispatcher: opts.dispatcher,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...standardWebhookHeaders(secret, delivery._id, delivery.payloadJson),
      'X-Chat-Event': eventOf(delivery.payloadJson),
      [SIGNATURE_HEADER]: signWebhookBody(secret, delivery.payloadJson),
      'X-Chat-Delivery': delivery._id,
    },
    body: delivery.payloadJson,
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    redirect: 'error',
  }).catch((err: unknown) => {
    const refusal = privateDestinationRefusal(err);
    throw refusal ? new UnrecoverableError(refusal.message) : err;
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  await WebhookDeliveryModel.updateOne(
    { _id: delivery._id },
    { $set: { status: 'delivered', deliveredAt: new Date(), attempts: job.attemptsMade + 1 }, $unset: { lastError: 1 } },
  );
  log.debug({ deliveryId: delivery._id, status: res.status }, 'webhook delivered');
  return { status: res.status };
}

function eventOf(payloadJson: string): string {
  try {
    const parsed = JSON.parse(payloadJson) as { event?: unknown };
    return typeof parsed.event === 'string' ? parsed.event : 'message.created';
  } catch {
    return 'message.created';
  }
}
