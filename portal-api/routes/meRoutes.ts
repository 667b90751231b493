import { ForbiddenError, NotFoundError } from '../../appservice/errors';
import { AdministratorModel, CustomerModel, NetworkModel } from '../../appservice/domain/models';
import { adminDocId, customerDocId } from '../../appservice/domain/entityIds';
import { defineRoute } from '../routeTable';
import type { PortalDeps } from '../portalDeps';
import { actorOf } from './chatRoutes';

export function meRoutes(deps: PortalDeps) {
  const { virtualUsers, conversations, config } = deps.services;

  return [
    defineRoute({
      method: 'get',
      path: '/v1/me/features',
      summary: 'Whether to show the Chats icon and the Community page',
      roles: ['customer', 'admin'],
      handler: async ({ caller }) => {
        const network = await NetworkModel.findById(caller.networkId).lean();
        if (!network) throw new NotFoundError('network');
        return { chats: network.chatsEnabled, communityVisibility: network.communityVisibility };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/me/matrix-session',
      summary: 'A Matrix session for the caller, so the same person can use any Matrix client',
      roles: ['customer', 'admin'],
      handler: async ({ caller }) => {
        const actor = actorOf(caller);
        await conversations.assertChatsEnabled(actor.networkId);
        const person =
          actor.kind === 'customer'
            ? await CustomerModel.findById(customerDocId(actor.networkId, actor.id)).lean()
            : await AdministratorModel.findById(adminDocId(actor.networkId, actor.id)).lean();
        if (person?.status !== 'active') throw new ForbiddenError('no active chat account for this caller');
        const userId = await virtualUsers.ensure(actor, { displayName: person.displayName });
        const session = await virtualUsers.createSession(userId);
        return { homeserverUrl: config.synapse.publicUrl, ...session };
      },
    }),
  ];
}
