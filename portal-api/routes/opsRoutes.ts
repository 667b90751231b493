import { z } from 'zod';
import { pingDatabase } from '../../appservice/domain/database';
import { setChatsEnabled } from '../chatsToggle';
import { enqueueChatsToggle } from '../../provisioning/chatsToggle';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

export interface ComponentHealth {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 3000;

async function check(probe: () => Promise<unknown>): Promise<ComponentHealth> {
  const started = performance.now();
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error: (err as Error).message.slice(0, 200) };
  }
}

/** Health of every part the product needs; used by the ops route and the CLI. */
export async function checkHealth(deps: PortalDeps) {
  const { matrix, registration } = deps.services;
  const [synapse, appservice, mongodb, redis, queues] = await Promise.all([
    check(async () => {
      if (!(await matrix.health())) throw new Error('Synapse /health did not answer OK');
    }),
    // Synapse pings the appservice: proves both directions (Synapse -> appservice -> 200).
    check(() => matrix.pingAppservice(registration.id, `health-${Date.now()}`)),
    check(() => pingDatabase()),
    check(() => deps.redis.ping()),
    check(() => deps.queue.queue.getJobCounts('waiting', 'active', 'failed', 'delayed')),
  ]);
  const components = { synapse, appservice, mongodb, redis, queues };
  const ok = Object.values(components).every((c) => c.status === 'up');
  return { status: ok ? 'ok' : 'degraded', components };
}

export function opsRoutes(deps: PortalDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/ops/health',
      summary: 'Synapse, appservice (ping), MongoDB, Redis and queues: each up/down with latency (503 when any is down)',
      roles: ['operator'],
      handler: async ({ ctx }) => {
        const health = await checkHealth(deps);
        ctx.status = health.status === 'ok' ? 200 : 503;
        ctx.body = health;
        return undefined;
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/ops/networks/:nid/chats',
      summary: "The network's chats toggle, for operators",
      roles: ['operator'],
      params: z.object({ nid: hostIdSchema }),
      body: z.strictObject({ enabled: z.boolean() }),
      handler: async ({ params, body }) => {
        const network = await setChatsEnabled(params.nid, body.enabled);
        // The flag answers the portal at once; the job makes the Matrix rooms follow (read-only or restored).
        const jobId = await enqueueChatsToggle(params.nid, network.chatsEnabled, deps.queue);
        return { networkId: network._id, chatsEnabled: network.chatsEnabled, jobId };
      },
    }),
  ];
}
