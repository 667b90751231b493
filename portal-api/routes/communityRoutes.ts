import { z } from 'zod';
import { communityPage } from '../../appservice/domain/communityDirectory';
import { defineRoute, hostIdSchema } from '../routeTable';
import { actorOf, pageQuery } from './chatRoutes';

/** A customer as other people see them in lists. */
export function personView(c: {
  customerId: string;
  kind: string;
  displayName: string;
  avatarUrl?: string | null;
  locationIds: string[];
  matrixUserId: string;
}) {
  return {
    customerId: c.customerId,
    kind: c.kind,
    displayName: c.displayName,
    avatarUrl: c.avatarUrl ?? null,
    locationIds: c.locationIds,
    matrixUserId: c.matrixUserId,
  };
}

export function communityRoutes() {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/community',
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
