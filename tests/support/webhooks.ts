import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { NOTIFICATION_DELIVERY_QUEUE } from '../../provisioning';
import { WebhookDeliveryModel } from '../../store';
import { eventually } from './harness';

export interface WebhookHit {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  hits: WebhookHit[];
  /** Successful deliveries (answered 200) per message id of their payload. */
  successesPerMessage(): Record<string, number>;
  close(): Promise<void>;
}

/** An operator's webhook endpoint on loopback; `answer` decides each status (200 by default). */
export async function startWebhookReceiver(answer: (hitsSoFar: number) => number = () => 200): Promise<WebhookReceiver> {
  const hits: WebhookHit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const answered = answer(hits.length);
      hits.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/chat`,
    hits,
    successesPerMessage() {
      const counts: Record<string, number> = {};
      for (const hit of hits.filter((h) => h.answered === 200)) {
        const id = (JSON.parse(hit.body) as { message: { id: string } }).message.id;
        counts[id] = (counts[id] ?? 0) + 1;
      }
      return counts;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Waits until the network's webhook deliveries are quiet: at least `atLeast` of them, each settled
 * in MongoDB (not pending or queued) with its job finished in the queue (no attempt waiting or
 * retrying), and then no new hit for a few relay intervals.
 */
export async function untilWebhooksQuiet(redisUrl: string, networkId: string, atLeast: number, receiver: { hits: unknown[] }): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(NOTIFICATION_DELIVERY_QUEUE, { connection });
  let last = '';
  try {
    await eventually(
      'every webhook delivery settled',
      async () => {
        const deliveries = await WebhookDeliveryModel.find({ networkId }).lean();
        const states = await Promise.all(deliveries.map(async (d) => `${d.status}/${(await (await queue.getJob(d._id))?.getState()) ?? 'no job'}`));
        const tally: Record<string, number> = {};
        for (const state of states) tally[state] = (tally[state] ?? 0) + 1;
        last = JSON.stringify(tally);
        return deliveries.length >= atLeast && Object.keys(tally).every((k) => /^(delivered|failed|skipped)\/(completed|failed)$/.test(k));
      },
      60000,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (${atLeast} expected; deliveries by status/job state: ${last})`);
    });
  } finally {
    await queue.close();
    connection.disconnect();
  }
  const heard = receiver.hits.length;
  await new Promise((r) => setTimeout(r, 1500));
  if (receiver.hits.length !== heard) throw new Error(`webhook hits still arriving after every delivery settled (${heard} → ${receiver.hits.length})`);
}
