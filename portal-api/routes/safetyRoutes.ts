import { z } from 'zod';
import { InvalidRequestError, NotFoundError } from '../../runtime';
import { blockCustomer, blocksOf, findAdministrator, findCustomer, unblockCustomer } from '../../store';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

/**
 * Safety: who a customer blocks. A blocked person opens no direct chat with the blocker, sends
 * nothing in their direct conversation (portal and Matrix alike), does not see the blocker on the
 * Community page, and is never told why (`recipient_not_reachable`). Support conversations and
 * administrators are never affected.
 */
export function safetyRoutes(_deps: PortalDeps) {
  const blockParams = z.strictObject({ customerId: hostIdSchema });

  return [
    defineRoute({
      method: 'get',
      path: '/v1/me/blocks',
      summary: 'The customers the caller blocks, newest first',
      roles: ['customer'],
      handler: async ({ caller }) => {
        const blocks = await blocksOf(caller.networkId!, caller.sub);
        return { blocks: blocks.map((b) => ({ customerId: b.blockedId, blockedAt: b.createdAt.toISOString() })) };
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/me/blocks/:customerId',
      summary: 'Block a customer of the network (idempotent; 204). Administrators cannot be blocked',
      roles: ['customer'],
      params: blockParams,
      status: 204,
      handler: async ({ params, caller }) => {
        const networkId = caller.networkId!;
        if (params.customerId === caller.sub) throw new InvalidRequestError('customerId', 'one cannot block oneself');
        const [customer, admin] = await Promise.all([findCustomer(networkId, params.customerId), findAdministrator(networkId, params.customerId)]);
        if (!customer) {
          if (admin) throw new InvalidRequestError('customerId', 'administrators cannot be blocked (support must always work)');
          throw new NotFoundError('customer');
        }
        await blockCustomer(networkId, caller.sub, params.customerId);
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/v1/me/blocks/:customerId',
      summary: 'Unblock a customer (idempotent; 204): everything is as it was before the block',
      roles: ['customer'],
      params: blockParams,
      status: 204,
      handler: async ({ params, caller }) => {
        await unblockCustomer(caller.networkId!, caller.sub, params.customerId);
      },
    }),
  ];
}
