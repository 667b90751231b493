import { z } from 'zod';
import { deprovisionCustomer } from '../../provisioning';
import { customerRemovalSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

export function customerDeprovisionRoutes(deps: PortalDeps) {
  return [
    defineRoute({
      method: 'delete',
      path: '/v1/networks/:nid/customers/:cid',
      operationId: 'deprovisionCustomer',
      tag: 'host sync',
      response: customerRemovalSchema,
      summary:
        'Deprovision a customer (202 {jobId}): deactivated at once, then removed from their rooms and their Matrix account closed; with erase=true their messages are redacted and their profile erased',
      roles: ['service', 'operator'],
      status: 202,
      params: z.object({ nid: hostIdSchema, cid: hostIdSchema }),
      query: z.object({ erase: z.enum(['true', 'false']).default('false') }),
      handler: async ({ params, query }) => {
        const erase = query.erase === 'true';
        const jobId = await deprovisionCustomer(deps.queue, deps.services.live, params.nid, params.cid, erase);
        return { jobId, networkId: params.nid, customerId: params.cid, status: 'deactivated', erase };
      },
    }),
  ];
}
