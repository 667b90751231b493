import { z } from 'zod';
import { NotFoundError } from '../../appservice/errors';
import { COMMUNITY_VISIBILITIES } from '../../appservice/domain/chatRules';
import {
  AdministratorModel,
  BookingModel,
  CustomerModel,
  FeedPostModel,
  LocationModel,
  NetworkModel,
} from '../../appservice/domain/models';
import { adminDocId, customerDocId } from '../../appservice/domain/entityIds';
import { enqueueChatsToggle } from '../../provisioning/chatsToggle';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

const SYNC_ROLES = ['service', 'operator'] as const;
const displayName = z.string().trim().min(1).max(255);

const networkParams = z.object({ nid: hostIdSchema });

export function hostSyncRoutes(deps: PortalDeps) {
  const { virtualUsers } = deps.services;

  async function requireNetwork(nid: string) {
    if (!(await NetworkModel.exists({ _id: nid }))) throw new NotFoundError('network');
  }

  return [
    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid',
      summary: 'Create or update a network',
      roles: SYNC_ROLES,
      params: networkParams,
      body: z.strictObject({
        name: displayName,
        chatsEnabled: z.boolean().optional(),
        communityVisibility: z.enum(COMMUNITY_VISIBILITIES).optional(),
      }),
      handler: async ({ params, body }) => {
        const network = await NetworkModel.findOneAndUpdate(
          { _id: params.nid },
          { $set: body },
          { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true },
        ).lean();
        // The host platform may toggle chats too: the rooms follow through the same fan-out job.
        if (body.chatsEnabled !== undefined) await enqueueChatsToggle(params.nid, network!.chatsEnabled, deps.queue);
        return networkView(network!);
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/locations/:lid',
      summary: 'Create or update a location',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, lid: hostIdSchema }),
      body: z.strictObject({ name: displayName }),
      handler: async ({ params, body }) => {
        await requireNetwork(params.nid);
        const res = await LocationModel.updateOne(
          { networkId: params.nid, locationId: params.lid },
          { $set: { name: body.name } },
          { upsert: true },
        );
        // A new location gets its space, and its customers their places in it.
        if (res.upsertedCount > 0) await deps.queue.placeInSpaces(params.nid);
        return { networkId: params.nid, locationId: params.lid, name: body.name };
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/customers/:cid',
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
      }),
      handler: async ({ params, body, ctx }) => {
        await requireNetwork(params.nid);
        const fields = {
          kind: body.kind,
          displayName: body.displayName,
          searchName: body.displayName.toLowerCase(),
          avatarUrl: body.avatarUrl ?? undefined,
          locationIds: [...new Set(body.locationIds)],
          hideNameOnBookings: body.hideNameOnBookings,
          status: body.status,
        };
        // By `_id` alone: FerretDB pushes a filter down only when `_id` is its one field (the
        // directory hook finds the network from the `_id`).
        const key = { _id: customerDocId(params.nid, params.cid) };
        const before = await CustomerModel.findById(key._id).lean();
        const unchanged = before && sameFields(before, fields);
        const customer = unchanged
          ? before
          : await CustomerModel.findOneAndUpdate(
              key,
              {
                $set: fields,
                $inc: { version: 1 },
                $setOnInsert: {
                  networkId: params.nid,
                  customerId: params.cid,
                  matrixUserId: virtualUsers.userId({ kind: 'customer', networkId: params.nid, id: params.cid }),
                },
              },
              { upsert: true, returnDocument: 'after' },
            ).lean();
        const jobId = await deps.queue.provisionCustomer(params.nid, params.cid, customer!.version);
        ctx.status = before ? 200 : 201;
        ctx.body = { ...customerView(customer!), provisioningJobId: jobId };
        return undefined;
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/admins/:aid',
      summary: 'Create or update an administrator',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, aid: hostIdSchema }),
      body: z.strictObject({
        displayName,
        notifications: z.strictObject({ inApp: z.boolean().optional(), webhook: z.boolean().optional() }).optional(),
      }),
      handler: async ({ params, body }) => {
        await requireNetwork(params.nid);
        const admin = await AdministratorModel.findOneAndUpdate(
          { _id: adminDocId(params.nid, params.aid) },
          {
            $set: {
              displayName: body.displayName,
              status: 'active',
              ...(body.notifications?.inApp !== undefined ? { 'notifications.inApp': body.notifications.inApp } : {}),
              ...(body.notifications?.webhook !== undefined ? { 'notifications.webhook': body.notifications.webhook } : {}),
            },
            $inc: { version: 1 },
            $setOnInsert: {
              networkId: params.nid,
              adminId: params.aid,
              matrixUserId: virtualUsers.userId({ kind: 'admin', networkId: params.nid, id: params.aid }),
            },
          },
          { upsert: true, returnDocument: 'after' },
        ).lean();
        const jobId = await deps.queue.provisionAdmin(params.nid, params.aid, admin!.version);
        return {
          networkId: admin!.networkId,
          adminId: admin!.adminId,
          displayName: admin!.displayName,
          matrixUserId: admin!.matrixUserId,
          provisioningJobId: jobId,
        };
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/feed-posts/:pid',
      summary: 'Record a Feed post (opens a chat path to its author and makes the author visible)',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, pid: hostIdSchema }),
      body: z.strictObject({ authorId: hostIdSchema, locationId: hostIdSchema.optional(), createdAt: z.iso.datetime({ offset: true }) }),
      handler: async ({ params, body }) => {
        await requireNetwork(params.nid);
        await FeedPostModel.updateOne(
          { networkId: params.nid, postId: params.pid },
          { $set: { authorId: body.authorId, locationId: body.locationId, postedAt: new Date(body.createdAt) } },
          { upsert: true },
        );
        // Posting makes a customer who hides their name visible (rule 5): place them in the spaces.
        await deps.queue.placeInSpaces(params.nid, body.authorId);
        return { networkId: params.nid, postId: params.pid, ...body };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/v1/networks/:nid/feed-posts/:pid',
      summary: 'Remove a Feed post',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, pid: hostIdSchema }),
      handler: async ({ params }) => {
        const res = await FeedPostModel.deleteOne({ networkId: params.nid, postId: params.pid });
        if (res.deletedCount === 0) throw new NotFoundError('feed post');
        return undefined;
      },
    }),

    defineRoute({
      method: 'put',
      path: '/v1/networks/:nid/bookings/:bid',
      summary: 'Record a booking (a shared booking opens chat paths between its participants)',
      roles: SYNC_ROLES,
      params: z.object({ nid: hostIdSchema, bid: hostIdSchema }),
      body: z.strictObject({
        locationId: hostIdSchema.optional(),
        participantIds: z.array(hostIdSchema).min(1).max(500),
        shared: z.boolean(),
      }),
      handler: async ({ params, body }) => {
        await requireNetwork(params.nid);
        await BookingModel.updateOne(
          { networkId: params.nid, bookingId: params.bid },
          { $set: { locationId: body.locationId, participantIds: [...new Set(body.participantIds)], shared: body.shared } },
          { upsert: true },
        );
        return { networkId: params.nid, bookingId: params.bid, ...body };
      },
    }),
  ];
}

function sameFields(before: Record<string, unknown>, fields: Record<string, unknown>): boolean {
  return Object.entries(fields).every(([k, v]) => JSON.stringify(before[k] ?? undefined) === JSON.stringify(v));
}

export function networkView(n: {
  _id: string;
  name: string;
  chatsEnabled: boolean;
  communityVisibility: string;
}) {
  return { id: n._id, name: n.name, chatsEnabled: n.chatsEnabled, communityVisibility: n.communityVisibility };
}

export function customerView(c: {
  networkId: string;
  customerId: string;
  kind: string;
  displayName: string;
  locationIds: string[];
  hideNameOnBookings: boolean;
  status: string;
  matrixUserId: string;
}) {
  return {
    networkId: c.networkId,
    customerId: c.customerId,
    kind: c.kind,
    displayName: c.displayName,
    locationIds: c.locationIds,
    hideNameOnBookings: c.hideNameOnBookings,
    status: c.status,
    matrixUserId: c.matrixUserId,
  };
}
