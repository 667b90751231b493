import { z } from 'zod';
import { COMMUNITY_VISIBILITIES } from '../../appservice';
import { recordBooking, recordFeedPost, removeFeedPost, syncAdministrator, syncCustomer, syncLocation, syncNetwork } from '../../provisioning';
import { customerView, networkView } from '../presenters';
import { bookingSchema, feedPostSchema, locationSchema, networkSchema, syncedAdministratorSchema, syncedCustomerSchema } from '../responseSchemas';
import { updateNotificationSettings } from '../../store';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

const SYNC_ROLES = ['service', 'operator'] as const;
const displayName = z.string().trim().min(1).max(255);
/** Where notification emails go (README "Notifications"); null removes it, left out keeps it. */
const emailAddress = z.email('not an email address').max(254).nullish();

const networkParams = z.object({ nid: hostIdSchema });

export function hostSyncRoutes(deps: PortalDeps) {
  const sync = { queue: deps.queue, matrixDomain: deps.services.config.matrixDomain, live: deps.services.live };

  return [
    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid',
      operationId: 'putNetwork',
      tag: 'host sync',
      response: networkSchema,
      summary: 'Create or update a network',
      roles: SYNC_ROLES,
      params: networkParams,
      body: z.strictObject({
        name: displayName,
        chatsEnabled: z.boolean().optional(),
        communityVisibility: z.enum(COMMUNITY_VISIBILITIES).optional(),
      }),
      handler: async ({ params, body }) => networkView(await syncNetwork(sync, params.nid, body)),
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/locations/:lid',
      operationId: 'putLocation',
      tag: 'host sync',
      response: locationSchema,
      summary: 'Create or update a location',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, lid: hostIdSchema }),
      body: z.strictObject({ name: displayName }),
      handler: async ({ params, body }) => {
        await syncLocation(sync, params.nid, params.lid, body.name);
        return { networkId: params.nid, locationId: params.lid, name: body.name };
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/customers/:cid',
      operationId: 'putCustomer',
      tag: 'host sync',
      response: syncedCustomerSchema,
      otherResponses: { 201: syncedCustomerSchema },
      summary: 'Create or update a customer; queues provisioning of their virtual user',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, cid: hostIdSchema }),
      body: z.strictObject({
        kind: z.enum(['member', 'nonmember']),
        displayName,
        avatarUrl: z.string().max(2048).regex(/^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/, 'an mxc:// URI').nullish(),
        locationIds: z.array(hostIdSchema).max(1000).default([]),
        hideNameOnBookings: z.boolean().default(false),
        status: z.enum(['active', 'deactivated']).default('active'),
        email: emailAddress,
      }),
      handler: async ({ params, body, ctx }) => {
        const { customer, created, jobId } = await syncCustomer(sync, params.nid, params.cid, {
          kind: body.kind,
          displayName: body.displayName,
          avatarUrl: body.avatarUrl ?? undefined,
          locationIds: [...new Set(body.locationIds)],
          hideNameOnBookings: body.hideNameOnBookings,
          status: body.status,
        });
        if (body.email !== undefined) await updateNotificationSettings(params.nid, 'customer', params.cid, { email: body.email });
        ctx.status = created ? 201 : 200;
        ctx.body = { ...customerView(customer), provisioningJobId: jobId };
        return undefined;
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/admins/:aid',
      operationId: 'putAdministrator',
      tag: 'host sync',
      response: syncedAdministratorSchema,
      summary: 'Create or update an administrator',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, aid: hostIdSchema }),
      body: z.strictObject({
        displayName,
        notifications: z.strictObject({ inApp: z.boolean().optional(), webhook: z.boolean().optional() }).optional(),
        email: emailAddress,
      }),
      handler: async ({ params, body }) => {
        const { email, ...fields } = body;
        const { admin, jobId } = await syncAdministrator(sync, params.nid, params.aid, fields);
        if (email !== undefined) await updateNotificationSettings(params.nid, 'admin', params.aid, { email });
        return {
          networkId: admin.networkId,
          adminId: admin.adminId,
          displayName: admin.displayName,
          matrixUserId: admin.matrixUserId,
          provisioningJobId: jobId,
        };
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/feed-posts/:pid',
      operationId: 'putFeedPost',
      tag: 'host sync',
      response: feedPostSchema,
      summary: 'Record a Feed post (opens a chat path to its author and makes the author visible)',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, pid: hostIdSchema }),
      body: z.strictObject({ authorId: hostIdSchema, locationId: hostIdSchema.optional(), createdAt: z.iso.datetime({ offset: true }) }),
      handler: async ({ params, body }) => {
        await recordFeedPost(sync, params.nid, params.pid, { authorId: body.authorId, locationId: body.locationId, postedAt: new Date(body.createdAt) });
        return { networkId: params.nid, postId: params.pid, ...body };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/v1/networks/:nid/feed-posts/:pid',
      operationId: 'deleteFeedPost',
      tag: 'host sync',
      response: null,
      summary: 'Remove a Feed post',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, pid: hostIdSchema }),
      handler: async ({ params }) => {
        await removeFeedPost(sync, params.nid, params.pid);
        return undefined;
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/bookings/:bid',
      operationId: 'putBooking',
      tag: 'host sync',
      response: bookingSchema,
      summary: 'Record a booking (a shared booking opens chat paths between its participants)',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, bid: hostIdSchema }),
      body: z.strictObject({
        locationId: hostIdSchema.optional(),
        participantIds: z.array(hostIdSchema).min(1).max(500),
        shared: z.boolean(),
      }),
      handler: async ({ params, body }) => {
        await recordBooking(params.nid, params.bid, body);
        return { networkId: params.nid, bookingId: params.bid, ...body };
      },
    }),
  ];
}
