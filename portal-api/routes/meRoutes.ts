import { ForbiddenError, NotFoundError } from '../../runtime';
import { featuresSchema, matrixSessionSchema } from '../responseSchemas';
import { attachmentPolicyOf } from '../../appservice';
import { defineRoute } from '../routeTable';
import type { PortalDeps } from '../portalDeps';
import { actorOf } from '../routeInputs';
import { findAdministrator, findCustomer, findNetwork } from '../../store';

export function meRoutes(deps: PortalDeps) {
  const { virtualUsers, conversations, config } = deps.services;

  return [
    defineRoute({
      method: 'get',
      path: '/v1/me/features',
      operationId: 'getFeatures',
      tag: 'me',
      response: featuresSchema,
      summary: 'Whether to show the Chats icon and the Community page, and the attachment policy to show before an upload',
      roles: ['customer', 'admin'],
      handler: async ({ caller }) => {
        const network = await findNetwork(caller.networkId!);
        if (!network) throw new NotFoundError('network');
        return { chats: network.chatsEnabled, communityVisibility: network.communityVisibility, attachments: attachmentPolicyOf(network) };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/me/matrix-session',
      operationId: 'createMatrixSession',
      tag: 'me',
      response: matrixSessionSchema,
      summary: 'A Matrix session for the caller, so the same person can use any Matrix client',
      roles: ['customer', 'admin'],
      handler: async ({ caller }) => {
        const actor = actorOf(caller);
        await conversations.assertChatsEnabled(actor.networkId);
        const person =
          actor.kind === 'customer'
            ? await findCustomer(actor.networkId, actor.id)
            : await findAdministrator(actor.networkId, actor.id);
        if (person?.status !== 'active') throw new ForbiddenError('no active chat account for this caller');
        const userId = await virtualUsers.ensure(actor, { displayName: person.displayName });
        // One portal device per person: this session replaces the previous one (its token stops working).
        const session = await deps.matrixAccess.openSession(userId);
        return { homeserverUrl: config.synapse.publicUrl, ...session };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/v1/me/matrix-session',
      operationId: 'deleteMeMatrixSession',
      tag: 'me',
      response: null,
      summary: 'Log the Matrix session of POST /v1/me/matrix-session out: its access token stops working (204)',
      roles: ['customer', 'admin'],
      status: 204,
      handler: async ({ caller }) => {
        await deps.matrixAccess.closeSession(virtualUsers.userId(actorOf(caller)));
      },
    }),
  ];
}
