import { z } from 'zod';
import { COMMUNITY_VISIBILITIES } from '../../appservice/domain/chatRules';
import { attachmentPolicyOf } from '../../appservice/domain/attachmentPolicy';
import { customerSearchPage } from '../../appservice/domain/communityDirectory';
import { AdminNotificationModel, type AdminNotificationDoc } from '../../appservice/domain/adminNotifications';
import { AdministratorModel, NetworkModel, type NetworkDoc } from '../../appservice/domain/models';
import { adminDocId } from '../../appservice/domain/entityIds';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../../appservice/errors';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';
import { setChatsEnabled } from '../chatsToggle';
import { enqueueChatsToggle } from '../../provisioning/chatsToggle';
import { actorOf, chatListPage, pageQuery, withParticipants } from './chatRoutes';
import { personView } from './communityRoutes';
import { decodeCursor, encodeCursor } from '../../appservice/domain/pageCursor';

const networkParams = z.object({ nid: hostIdSchema });
const mimeType = z
  .string()
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'a lowercase MIME type such as application/pdf');
const notificationId = z.string().regex(/^nt_[0-9a-f]{32}$/, 'not a notification id');

function settingsView(n: NetworkDoc) {
  return {
    chatsEnabled: n.chatsEnabled,
    communityVisibility: n.communityVisibility,
    attachments: attachmentPolicyOf(n),
    notifications: {
      inApp: n.notifications?.inApp !== false,
      webhookUrl: n.notifications?.webhookUrl ?? null,
      // The secret is write-only: the portal only learns whether one is set.
      webhookSecretSet: Boolean(n.notifications?.webhookSecret),
    },
  };
}

function notificationView(n: AdminNotificationDoc & { _id: string }) {
  return {
    id: n._id,
    type: n.type,
    chatId: n.chatId,
    customerId: n.customerId,
    messageId: n.messageId,
    preview: n.preview ?? null,
    at: new Date(n.at).toISOString(),
    read: n.readAt !== null && n.readAt !== undefined,
  };
}

/** Administrators' side of a network: settings, customer search, support inbox, notifications. */
export function adminRoutes(deps: PortalDeps) {
  const { conversations, config } = deps.services;

  /** The caller must be an active administrator of the network (a token alone is not enough). */
  async function requireAdmin(nid: string, adminId: string): Promise<void> {
    // By `_id` alone: FerretDB pushes a filter down only when `_id` is its one field.
    const admin = await AdministratorModel.findById(adminDocId(nid, adminId)).select({ status: 1 }).lean();
    if (admin?.status !== 'active') {
      throw new ForbiddenError('not an active administrator of this network');
    }
  }

  async function unreadNotifications(nid: string, adminId: string): Promise<number> {
    return AdminNotificationModel.countDocuments({ networkId: nid, adminId, readAt: null });
  }

  return [
    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/settings',
      summary: "The network's chat settings: chats toggle, community visibility, attachment policy, notifications",
      roles: ['admin'],
      params: networkParams,
      handler: async ({ params, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        const network = await NetworkModel.findById(params.nid).lean();
        if (!network) throw new NotFoundError('network');
        return settingsView(network);
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/v1/networks/:nid/settings',
      summary: 'Change chat settings; only the fields sent change',
      roles: ['admin'],
      params: networkParams,
      body: z
        .strictObject({
          chatsEnabled: z.boolean().optional(),
          communityVisibility: z.enum(COMMUNITY_VISIBILITIES).optional(),
          attachments: z
            .strictObject({
              allowedTypes: z.array(mimeType).max(50).optional(),
              maxBytes: z.number().int().min(1).max(config.attachments.maxBytesCeiling).optional(),
            })
            .optional(),
          notifications: z
            .strictObject({
              inApp: z.boolean().optional(),
              webhookUrl: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional(),
              webhookSecret: z.string().min(16).max(256).nullable().optional(),
            })
            .optional(),
        })
        .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' }),
      handler: async ({ params, body, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        const before = await NetworkModel.findById(params.nid).lean();
        if (!before) throw new NotFoundError('network');
        const n = body.notifications;
        const url = n?.webhookUrl !== undefined ? n.webhookUrl : before.notifications?.webhookUrl;
        const secret = n?.webhookSecret !== undefined ? n.webhookSecret : before.notifications?.webhookSecret;
        if (url && !secret) throw new InvalidRequestError('notifications.webhookSecret', 'required with a webhookUrl');
        const set: Record<string, unknown> = {};
        const unset: Record<string, 1> = {};
        if (body.communityVisibility) set.communityVisibility = body.communityVisibility;
        if (body.attachments?.allowedTypes) set['attachments.allowedTypes'] = [...new Set(body.attachments.allowedTypes)];
        if (body.attachments?.maxBytes) set['attachments.maxBytes'] = body.attachments.maxBytes;
        if (n?.inApp !== undefined) set['notifications.inApp'] = n.inApp;
        for (const key of ['webhookUrl', 'webhookSecret'] as const) {
          if (n?.[key] === null) unset[`notifications.${key}`] = 1;
          else if (n?.[key] !== undefined) set[`notifications.${key}`] = n[key];
        }
        if (Object.keys(set).length + Object.keys(unset).length > 0) {
          await NetworkModel.updateOne({ _id: params.nid }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(unset).length ? { $unset: unset } : {}) });
        }
        if (body.chatsEnabled !== undefined) {
          await setChatsEnabled(params.nid, body.chatsEnabled);
          // The rooms follow on the Matrix side (read-only / restored) through the queued fan-out.
          await enqueueChatsToggle(params.nid, body.chatsEnabled, deps.queue);
        }
        // Who shares a space follows the Community page: re-place everyone when visibility changes.
        if (body.communityVisibility && body.communityVisibility !== before.communityVisibility) {
          await deps.queue.placeInSpaces(params.nid);
        }
        const after = await NetworkModel.findById(params.nid).lean();
        return settingsView(after!);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/customers',
      summary: 'Search customers (members and non-members) by name, for "New chat"',
      roles: ['admin'],
      params: networkParams,
      query: pageQuery.extend({ q: z.string().trim().min(1).max(100).optional() }),
      handler: async ({ params, query, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        const network = await conversations.assertChatsEnabled(params.nid);
        const page = await customerSearchPage(params.nid, network.directoryRevision ?? 0, query);
        return { customers: page.items.map(personView), nextCursor: page.nextCursor };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/chats',
      summary: "The network's support inbox, newest activity first, with this administrator's unread counts",
      roles: ['admin'],
      params: networkParams,
      query: pageQuery,
      handler: async ({ params, query, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        await conversations.assertChatsEnabled(params.nid);
        return chatListPage(deps, actorOf(caller), { networkId: params.nid, kind: 'support' }, query, params.nid);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/networks/:nid/chats',
      summary: 'Open (or return the existing) support conversation with a customer',
      roles: ['admin'],
      params: networkParams,
      body: z.strictObject({ customerId: hostIdSchema }),
      handler: async ({ params, body, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        const conversation = await conversations.openSupport(params.nid, body.customerId, actorOf(caller));
        const [view] = await withParticipants([conversation]);
        return view;
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/notifications',
      summary: "This administrator's in-app notifications, newest first, with the unread count",
      roles: ['admin'],
      params: networkParams,
      query: pageQuery.extend({ unreadOnly: z.enum(['true', 'false']).default('false') }),
      handler: async ({ params, query, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        await conversations.assertChatsEnabled(params.nid);
        const conditions: Record<string, unknown>[] = [{ networkId: params.nid, adminId: caller.sub }];
        if (query.unreadOnly === 'true') conditions.push({ readAt: null });
        if (query.cursor) {
          const [ms, id] = decodeCursor(query.cursor, ['number', 'string'] as const);
          const at = new Date(ms);
          conditions.push({ $or: [{ at: { $lt: at } }, { at, _id: { $lt: id } }] });
        }
        const docs = await AdminNotificationModel.find({ $and: conditions })
          .sort({ at: -1, _id: -1 })
          .limit(query.limit + 1)
          .lean<(AdminNotificationDoc & { _id: string })[]>();
        const page = docs.slice(0, query.limit);
        const last = page[page.length - 1];
        return {
          notifications: page.map(notificationView),
          unreadCount: await unreadNotifications(params.nid, caller.sub),
          nextCursor:
            docs.length > query.limit && last
              ? encodeCursor([new Date(last.at).getTime(), last._id])
              : null,
        };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/networks/:nid/notifications/read',
      summary: 'Mark notifications read: the given ids, or all of them',
      roles: ['admin'],
      params: networkParams,
      body: z
        .strictObject({ ids: z.array(notificationId).min(1).max(100).optional(), all: z.literal(true).optional() })
        .refine((b) => (b.ids === undefined) !== (b.all === undefined), { message: 'send either ids or all: true', path: ['ids'] }),
      handler: async ({ params, body, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        await conversations.assertChatsEnabled(params.nid);
        await AdminNotificationModel.updateMany(
          { networkId: params.nid, adminId: caller.sub, readAt: null, ...(body.ids ? { _id: { $in: body.ids } } : {}) },
          { $set: { readAt: new Date() } },
        );
        return { unreadCount: await unreadNotifications(params.nid, caller.sub) };
      },
    }),
  ];
}
