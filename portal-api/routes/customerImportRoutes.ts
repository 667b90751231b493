import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { ForbiddenError, NotFoundError, type Config } from '../../runtime';
import { verifyBearer } from '../auth';
import { importCustomers } from '../../provisioning';
import { importAcceptedSchema } from '../responseSchemas';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

/** The colon is part of the contract's path ("customers:import"); path-to-regexp needs it escaped. */
const IMPORT_PATH = /^\/v1\/networks\/([^/]+)\/customers:import$/;

/**
 * The import's JSON body may be far larger than any other request: it is parsed here with its own
 * limit (IMPORT_MAX_BYTES) before the API's general 1 MB parser, which then leaves it alone — and
 * only for a caller whose token is valid and whose role may import: nobody else makes the process
 * read (and hold in memory) up to IMPORT_MAX_BYTES. A body over the limit is refused with 413 from
 * its Content-Length, before it is read or anything queued.
 */
export function customerImportBodyParser(limits: Config['customerImport'], jwt: Config['jwt']): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: limits.maxBytes, encoding: 'utf-8' });
  return (ctx, next) => {
    if (ctx.method !== 'POST' || !IMPORT_PATH.test(ctx.path)) return next();
    const caller = verifyBearer(ctx.get('authorization') || undefined, jwt);
    if (!IMPORT_ROLES.includes(caller.role as (typeof IMPORT_ROLES)[number])) throw new ForbiddenError();
    // The route's own tenant check, early: another network's service token reads no body either.
    if (caller.role !== 'operator' && caller.networkId !== pathNetwork(ctx.path)) throw new NotFoundError('network');
    return parse(ctx, next);
  };
}

const IMPORT_ROLES = ['service', 'operator'] as const;

function pathNetwork(path: string): string | null {
  try {
    return decodeURIComponent(IMPORT_PATH.exec(path)![1]!);
  } catch {
    return null;
  }
}

export function customerImportRoutes(deps: PortalDeps) {
  const { maxRows } = deps.services.config.customerImport;
  return [
    defineRoute({
      method: 'post',
      path: '/v1/networks/:nid/customers\\:import',
      operationId: 'importCustomers',
      tag: 'host sync',
      response: importAcceptedSchema,
      summary:
        'Bulk upsert of customers as one queued job (202 {jobId}); invalid rows are reported with their reasons by GET /v1/jobs/:jobId while the valid ones are provisioned',
      roles: IMPORT_ROLES,
      status: 202,
      params: z.object({ nid: hostIdSchema }),
      body: z.strictObject({ customers: z.array(z.unknown()).min(1) }),
      handler: async ({ params, body }) => importCustomers(deps.queue, params.nid, body.customers, maxRows),
    }),
  ];
}
