import { z } from 'zod';
import { communityPage } from '../../appservice';
import { communityPageSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import { actorOf, pageQuery } from '../routeInputs';
import { personView } from '../presenters';

export function communityRoutes() {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/community',
      operationId: 'listCommunity',
      tag: 'community',
      response: communityPageSchema,
      summary: 'People this customer may browse and message (community visibility and privacy), by name',
      roles: ['customer'],
      query: pageQuery.extend({
        q: z.string().trim().min(1).max(100).optional(),
        locationId: hostIdSchema.optional(),
      }),
      handler: async ({ query, caller }) => {
        const actor = actorOf(caller);
        const page = await communityPage(actor.networkId, actor.id, query);
        return { people: page.items.map(personView), nextCursor: page.nextCursor };
      },
    }),
  ];
}
