import { z } from 'zod';
import { toggleChats } from '../../provisioning';
import { checkHealth } from '../healthCheck';
import { chatsToggleSchema, healthSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

export function opsRoutes(deps: PortalDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/ops/health',
      operationId: 'getHealth',
      tag: 'operators',
      response: healthSchema,
      otherResponses: { 503: healthSchema },
      summary: 'Synapse, appservice (ping), MongoDB, Redis and queues: each up/down with latency (503 when any is down)',
      roles: ['operator'],
      handler: async ({ ctx }) => {
        const health = await checkHealth(deps);
        ctx.status = health.status === 'ok' ? 200 : 503;
        // Every degraded answer is logged whole: a probe that removed a node can be explained.
        if (ctx.status !== 200) ctx.state.log?.warn({ health }, 'health degraded');
        ctx.body = health;
        return undefined;
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/ops/networks/:nid/chats',
      operationId: 'setNetworkChats',
      tag: 'operators',
      response: chatsToggleSchema,
      summary: "The network's chats toggle, for operators",
      roles: ['operator'],
      params: z.object({ nid: hostIdSchema }),
      body: z.strictObject({ enabled: z.boolean() }),
      handler: async ({ params, body }) => {
        const { network, jobId } = await toggleChats(deps.queue, deps.services.live, params.nid, body.enabled);
        return { networkId: network._id, chatsEnabled: network.chatsEnabled, jobId };
      },
    }),
  ];
}
