import { Queue } from 'bullmq';
import type { BenchStack } from './benchStack';
import { createWorkerConnection, JOB_STATES, NOTIFICATION_DELIVERY_QUEUE, PROVISIONING_QUEUE } from '../../provisioning';

/** Jobs per queue and state, e.g. `provisioning:completed`: a job queued (even one already done) moves these. */
export type QueueCounts = Record<string, number>;

const UNFINISHED = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** Counts of every job state in the provisioning and webhook queues, read straight from Redis. */
export async function queueCounts(b: BenchStack): Promise<QueueCounts> {
  const connection = createWorkerConnection(b.config.redisUrl);
  try {
    const out: QueueCounts = {};
    for (const name of [PROVISIONING_QUEUE, NOTIFICATION_DELIVERY_QUEUE]) {
      const queue = new Queue(name, { connection });
      const counts = await queue.getJobCounts(...JOB_STATES);
      for (const [state, n] of Object.entries(counts)) out[`${name}:${state}`] = n;
      await queue.close();
    }
    return out;
  } finally {
    connection.disconnect();
  }
}

/** Jobs queued or running (not completed, not failed) in either queue. */
export async function unfinishedJobs(b: BenchStack): Promise<number> {
  return Object.entries(await queueCounts(b))
    .filter(([key]) => UNFINISHED.has(key.slice(key.indexOf(':') + 1)))
    .reduce((s, [, n]) => s + n, 0);
}
