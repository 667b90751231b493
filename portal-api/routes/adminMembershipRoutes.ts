import { z } from 'zod';
import { removeNetworkAdministrator } from '../../provisioning';
import { administratorRemovalSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

export function adminMembershipRoutes(deps: PortalDeps) {
  return [
    defineRoute({
      method: 'delete',
      path: '/v1/networks/:nid/admins/:aid',
      operationId: 'removeAdministrator',
      tag: 'host sync',
      response: administratorRemovalSchema,
      summary:
        "Remove an administrator (202 {jobId}): they lose access at once, and a job removes them from the network's support rooms",
      roles: ['service', 'operator'],
      status: 202,
      params: z.object({ nid: hostIdSchema, aid: hostIdSchema }),
      handler: async ({ params }) => {
        // Removing twice queues one job: the version only moves when the status does.
        const { jobId } = await removeNetworkAdministrator({ queue: deps.queue, matrixDomain: deps.services.config.matrixDomain, live: deps.services.live }, params.nid, params.aid);
        return { jobId, networkId: params.nid, adminId: params.aid, status: 'removed' };
      },
    }),
  ];
}
