import { z } from 'zod';
import {
  COMMUNITY_VISIBILITIES,
  chatListPage,
  customerSearchPage,
  findParticipant,
  markNotificationsRead,
  notificationsPage,
  participantsOf,
  unreadNotificationCount,
} from '../../appservice';
import { announceFeatures, toggleChats } from '../../provisioning';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../../runtime';
import { findCustomers, findNetwork, updateNetworkSettings } from '../../store';
import { chatListSchema, chatWithParticipantsSchema, customerSearchSchema, notificationPageSchema, settingsSchema, unreadCountSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';
import { actorOf, pageQuery } from '../routeInputs';
import { chatListView, chatWithParticipantsView, notificationView, personView, settingsView } from '../presenters';

const networkParams = z.object({ nid: hostIdSchema });
const mimeType = z
  .string()
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'a lowercase MIME type such as application/pdf');
const notificationId = z.string().regex(/^nt_[0-9a-f]{32}$/, 'not a notification id');

/** Administrators' side of a network: settings, customer search, support inbox, notifications. */
export function adminRoutes(deps: PortalDeps) {
  const { conversations, config } = deps.services;

  /** The caller must be an active administrator of the network (a token alone is not enough). */
  async function requireAdmin(nid: string, adminId: string): Promise<void> {
    // The same read as the route table's status check of this request (runtime/requestMemo): no second round trip.
    const admin = await findParticipant({ kind: 'admin', networkId: nid, id: adminId });
    if (admin?.status !== 'active') {
      throw new ForbiddenError('not an active administrator of this network');
    }
  }

  return [
    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/settings',
      operationId: 'getNetworkSettings',
      tag: 'administrators',
      response: settingsSchema,
      summary: "The network's chat settings: chats toggle, community visibility, attachment policy, notifications",
      roles: ['admin'],
      params: networkParams,
      handler: async ({ params, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        const network = await findNetwork(params.nid);
        if (!network) throw new NotFoundError('network');
        return settingsView(network);
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/v1/networks/:nid/settings',
      operationId: 'updateNetworkSettings',
      tag: 'administrators',
      response: settingsSchema,
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
        const before = await findNetwork(params.nid);
        if (!before) throw new NotFoundError('network');
        const n = body.notifications;
        const url = n?.webhookUrl !== undefined ? n.webhookUrl : before.notifications?.webhookUrl;
        const secret = n?.webhookSecret !== undefined ? n.webhookSecret : before.notifications?.webhookSecret;
        if (url && !secret) throw new InvalidRequestError('notifications.webhookSecret', 'required with a webhookUrl');
        const homeserverLimit = body.attachments?.maxBytes ? await deps.services.attachments.homeserverUploadLimit() : null;
        if (homeserverLimit !== null && body.attachments!.maxBytes! > homeserverLimit) {
          throw new InvalidRequestError('attachments.maxBytes', `must be at most ${homeserverLimit} (the homeserver's upload limit)`);
        }
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
        let after = await updateNetworkSettings(params.nid, set, unset);
        if (body.chatsEnabled !== undefined) after = (await toggleChats(deps.queue, deps.services.live, params.nid, body.chatsEnabled)).network;
        // Who shares a space follows the Community page: re-place everyone when visibility changes.
        if (body.communityVisibility && body.communityVisibility !== before.communityVisibility) {
          await deps.queue.placeInSpaces(params.nid);
          if (body.chatsEnabled === undefined) await announceFeatures(deps.services.live, after!);
        }
        return settingsView(after!);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/customers',
      operationId: 'searchCustomers',
      tag: 'administrators',
      response: customerSearchSchema,
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
      operationId: 'listSupportInbox',
      tag: 'administrators',
      response: chatListSchema,
      summary: "The network's support inbox, newest activity first, with this administrator's unread counts",
      roles: ['admin'],
      params: networkParams,
      query: pageQuery,
      handler: async ({ params, query, caller }) => {
        await Promise.all([requireAdmin(params.nid, caller.sub), conversations.assertChatsEnabled(params.nid)]);
        return chatListView(await chatListPage(deps.services.readMarkers, actorOf(caller), { kind: 'support_inbox', networkId: params.nid }, query));
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/networks/:nid/chats',
      operationId: 'openSupportChatWithCustomer',
      tag: 'administrators',
      response: chatWithParticipantsSchema,
      summary: 'Open (or return the existing) support conversation with a customer',
      roles: ['admin'],
      params: networkParams,
      body: z.strictObject({ customerId: hostIdSchema }),
      handler: async ({ params, body, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        const conversation = await conversations.openSupport(params.nid, body.customerId, actorOf(caller));
        return chatWithParticipantsView(conversation, await participantsOf([conversation]));
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/notifications',
      operationId: 'listNotifications',
      tag: 'administrators',
      response: notificationPageSchema,
      summary: "This administrator's in-app notifications, newest first, with the unread count",
      roles: ['admin'],
      params: networkParams,
      query: pageQuery.extend({ unreadOnly: z.enum(['true', 'false']).default('false') }),
      handler: async ({ params, query, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        await conversations.assertChatsEnabled(params.nid);
        const page = await notificationsPage(params.nid, caller.sub, { unreadOnly: query.unreadOnly === 'true', cursor: query.cursor, limit: query.limit });
        // Their names as they are now, in one query (administrators see every name).
        const customers = await findCustomers(params.nid, [...new Set(page.notifications.flatMap((n) => (n.customerId ? [n.customerId] : [])))]);
        const names = new Map(customers.map((c) => [c.customerId, c.displayName]));
        return {
          notifications: page.notifications.map((n) => notificationView(n, (n.customerId && names.get(n.customerId)) || null)),
          unreadCount: await unreadNotificationCount(params.nid, caller.sub),
          nextCursor: page.nextCursor,
        };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/networks/:nid/notifications/read',
      operationId: 'markNotificationsRead',
      tag: 'administrators',
      response: unreadCountSchema,
      summary: 'Mark notifications read: the given ids, or all of them',
      roles: ['admin'],
      params: networkParams,
      body: z
        .strictObject({ ids: z.array(notificationId).min(1).max(100).optional(), all: z.literal(true).optional() })
        .refine((b) => (b.ids === undefined) !== (b.all === undefined), { message: 'send either ids or all: true', path: ['ids'] }),
      handler: async ({ params, body, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        await conversations.assertChatsEnabled(params.nid);
        return { unreadCount: await markNotificationsRead(params.nid, caller.sub, body.ids) };
      },
    }),
  ];
}
