import { z } from 'zod';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../../runtime';
import { decodeCursor, encodeCursor } from '../../appservice';
import { importMatrixReports } from '../../provisioning';
import { REPORT_REASONS, blockCustomer, blocksOf, findAdministrator, findCustomer, reportsPage, unblockCustomer, type ReportDoc } from '../../store';
import { defineRoute, hostIdSchema } from '../routeTable';
import { actorOf, pageQuery } from '../routeInputs';
import type { PortalDeps } from '../portalDeps';

const reportSchema = z.object({
  id: z.string(),
  status: z.enum(['open', 'resolved', 'dismissed']),
  source: z.enum(['portal', 'matrix']),
  reason: z.enum(REPORT_REASONS),
  details: z.string().nullable(),
  reporterId: z.string(),
  customerId: z.string().nullable(),
  chatId: z.string().nullable(),
  messageId: z.string().nullable(),
  messageText: z.string().nullable(),
  createdAt: z.string(),
  actions: z.array(z.object({ adminId: z.string(), at: z.string(), status: z.string(), action: z.string().nullable() })),
});

function reportView(r: ReportDoc) {
  return {
    id: r._id,
    status: r.status,
    source: r.source,
    reason: r.reason,
    details: r.details,
    reporterId: r.reporterId,
    customerId: r.customerId,
    chatId: r.chatId,
    messageId: r.messageId,
    messageText: r.messageText,
    createdAt: new Date(r.createdAt).toISOString(),
    actions: (r.actions ?? []).map((a) => ({ adminId: a.adminId, at: new Date(a.at).toISOString(), status: a.status, action: a.action ?? null })),
  };
}

/**
 * Safety: who a customer blocks. A blocked person opens no direct chat with the blocker, sends
 * nothing in their direct conversation (portal and Matrix alike), does not see the blocker on the
 * Community page, and is never told why (`recipient_not_reachable`). Support conversations and
 * administrators are never affected.
 */
export function safetyRoutes(deps: PortalDeps) {
  const blockParams = z.strictObject({ customerId: hostIdSchema });
  const { reports } = deps.services;
  const requireAdmin = async (networkId: string, adminId: string) => {
    const admin = await findAdministrator(networkId, adminId);
    if (admin?.status !== 'active') throw new ForbiddenError('not an active administrator of this network');
  };

  return [
    defineRoute({
      method: 'get',
      path: '/v1/me/blocks',
      operationId: 'getMeBlocks',
      tag: 'me',
      response: z.object({ blocks: z.array(z.object({ customerId: z.string(), blockedAt: z.string() })) }),
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
      operationId: 'putMeBlocks',
      tag: 'me',
      response: null,
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
      operationId: 'deleteMeBlocks',
      tag: 'me',
      response: null,
      summary: 'Unblock a customer (idempotent; 204): everything is as it was before the block; 404 for an unknown customer',
      roles: ['customer'],
      params: blockParams,
      status: 204,
      handler: async ({ params, caller }) => {
        if (!(await findCustomer(caller.networkId!, params.customerId))) throw new NotFoundError('customer');
        await unblockCustomer(caller.networkId!, caller.sub, params.customerId);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/reports',
      operationId: 'postReports',
      tag: 'me',
      response: z.object({ id: z.string() }),
      summary: 'Report a person or a message (201 {id}); the network\'s administrators are notified, the reported person is not told',
      roles: ['customer'],
      status: 201,
      body: z
        .strictObject({
          customerId: hostIdSchema.optional(),
          chatId: z.string().min(1).max(200).optional(),
          messageId: z.string().min(1).max(255).optional(),
          reason: z.enum(REPORT_REASONS),
          details: z.string().max(2000).optional(),
        })
        .refine((b) => b.customerId || b.chatId || b.messageId, { message: 'name a customerId, a chatId or a messageId', path: ['customerId'] }),
      handler: async ({ body, caller }) => {
        const report = await reports.reportFromPortal(actorOf(caller), body);
        return { id: report._id };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/networks/:nid/reports',
      operationId: 'getNetworksReports',
      tag: 'administrators',
      response: z.object({ reports: z.array(reportSchema), nextCursor: z.string().nullable() }),
      summary: "The network's reports, newest first (from the portal and from Matrix clients), with the reported message's text",
      roles: ['admin'],
      params: z.strictObject({ nid: hostIdSchema }),
      query: pageQuery.extend({ status: z.enum(['open', 'resolved']).default('open') }),
      handler: async ({ params, query, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        await importMatrixReports({ redis: deps.redis, synapseAdmin: deps.synapseAdmin, reports });
        const after = query.cursor ? decodeCursor(query.cursor, ['string', 'string'] as const) : null;
        const page = await reportsPage(params.nid, query.status, { limit: query.limit + 1, ...(after ? { before: { at: new Date(after[0]), id: after[1] } } : {}) });
        const items = page.slice(0, query.limit);
        const last = items[items.length - 1];
        return {
          reports: items.map(reportView),
          nextCursor: page.length > query.limit && last ? encodeCursor([new Date(last.createdAt).toISOString(), last._id]) : null,
        };
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/v1/networks/:nid/reports/:reportId',
      operationId: 'patchNetworksReports',
      tag: 'administrators',
      response: reportSchema,
      summary: 'Resolve or dismiss a report; optionally remove the message for everyone or suspend (or lift the suspension of) the customer\'s chats',
      roles: ['admin'],
      params: z.strictObject({ nid: hostIdSchema, reportId: z.string().min(1).max(100) }),
      body: z.strictObject({
        status: z.enum(['resolved', 'dismissed']),
        action: z.enum(['remove_message', 'suspend_chats', 'lift_suspension']).optional(),
      }),
      handler: async ({ params, body, caller }) => {
        await requireAdmin(params.nid, caller.sub);
        return reportView(await reports.moderate(params.nid, params.reportId, caller.sub, body));
      },
    }),
  ];
}
