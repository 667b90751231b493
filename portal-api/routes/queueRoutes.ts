import { Queue } from 'bullmq';
import { z } from 'zod';
import { NotFoundError } from '../../runtime';
import { describeQueue, retryFailedJobs, NOTIFICATION_DELIVERY_QUEUE } from '../../provisioning';
import { queuesSchema, retriedSchema } from '../responseSchemas';
import { defineRoute } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

const operated = new WeakMap<PortalDeps, Queue[]>();

/** Every queue of the product, as operators see them (ops routes and the dashboard share these). */
export function operatedQueues(deps: PortalDeps): Queue[] {
  let queues = operated.get(deps);
  if (!queues) {
    const notifications = new Queue(NOTIFICATION_DELIVERY_QUEUE, { connection: deps.redis });
    // Connection errors are logged by the portal API, which owns the connection.
    notifications.on('error', () => undefined);
    queues = [deps.queue.queue as Queue, notifications];
    operated.set(deps, queues);
  }
  return queues;
}

export function queueRoutes(deps: PortalDeps) {
  const queueNamed = (name: string) => {
    const queue = operatedQueues(deps).find((q) => q.name === name);
    if (!queue) throw new NotFoundError('queue');
    return queue;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/ops/queues',
      operationId: 'listQueues',
      tag: 'operators',
      response: queuesSchema,
      summary: 'Counts per queue and state, and the latest failed jobs with their reasons',
      roles: ['operator'],
      handler: async () => ({ queues: await Promise.all(operatedQueues(deps).map((q) => describeQueue(q))) }),
    }),

    defineRoute({
      method: 'post',
      path: '/v1/ops/queues/:queue/retry',
      operationId: 'retryQueueJobs',
      tag: 'operators',
      response: retriedSchema,
      summary: 'Retry failed jobs of a queue: all of them, or those in jobIds',
      roles: ['operator'],
      params: z.object({ queue: z.string().min(1).max(100) }),
      body: z.strictObject({ jobIds: z.array(z.string().min(1).max(300)).min(1).max(10000).optional() }).default({}),
      handler: async ({ params, body }) => ({ retried: await retryFailedJobs(queueNamed(params.queue), body.jobIds) }),
    }),
  ];
}
