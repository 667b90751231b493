import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { AppError, NotFoundError } from '../../runtime';
import { claimExportDownload, dropExportParts, findCustomer, findCustomerExport, readExportPart, startCustomerExport } from '../../store';
import { defineRoute, hostIdSchema } from '../routeTable';
import type { PortalDeps } from '../portalDeps';

/** How long a finished export waits for its one download. */
const EXPORT_TTL_MS = 24 * 60 * 60 * 1000;

class ExportGoneError extends AppError {
  constructor() {
    super('gone', 410, 'this export was downloaded already or has expired; ask for a new one');
  }
}

/**
 * Data access requests: the host platform (or an operator) asks for everything a customer sent and
 * the conversations they are in; a job gathers it from Synapse (GET /v1/jobs/:jobId shows its
 * progress and, when done, the download link), and the one who asked downloads it once.
 */
export function customerExportRoutes(deps: PortalDeps) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/networks/:nid/customers/:cid/export',
      operationId: 'postNetworksCustomersExport',
      tag: 'host sync',
      response: z.object({ jobId: z.string(), exportId: z.string(), download: z.string() }),
      summary: "Export a customer's data (202 {jobId, exportId}): every message they sent, their conversations, settings and blocks, as one JSON document",
      roles: ['service', 'operator'],
      status: 202,
      params: z.strictObject({ nid: hostIdSchema, cid: hostIdSchema }),
      handler: async ({ params, caller }) => {
        if (!(await findCustomer(params.nid, params.cid))) throw new NotFoundError('customer');
        const exportId = `exp_${randomUUID()}`;
        await startCustomerExport({ _id: exportId, networkId: params.nid, customerId: params.cid, requestedBy: `${caller.role}:${caller.networkId ?? ''}:${caller.sub}`, expiresAt: new Date(Date.now() + EXPORT_TTL_MS) });
        const jobId = await deps.queue.exportCustomer(params.nid, params.cid, exportId);
        return { jobId, exportId, download: `/v1/exports/${exportId}` };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/exports/:exportId',
      operationId: 'getExports',
      tag: 'host sync',
      response: null,
      produces: 'application/json',
      summary: 'Download a finished export (application/json), once, by whoever asked for it; 410 once downloaded or expired',
      roles: ['service', 'operator'],
      params: z.strictObject({ exportId: z.string().min(1).max(100) }),
      handler: async ({ params, caller, ctx }) => {
        const record = await findCustomerExport(params.exportId);
        // Somebody else's export is as unknown as a missing one.
        if (!record || record.requestedBy !== `${caller.role}:${caller.networkId ?? ''}:${caller.sub}`) throw new NotFoundError('export');
        if (record.status === 'running') throw new AppError('not_ready', 409, 'the export is not finished yet; follow its job');
        if (record.status === 'downloaded' || record.expiresAt.getTime() < Date.now()) throw new ExportGoneError();
        if (!(await claimExportDownload(record._id))) throw new ExportGoneError();
        async function* parts() {
          for (let n = 0; n < record!.parts; n++) yield (await readExportPart(record!._id, n)) ?? '';
          await dropExportParts(record!._id);
        }
        ctx.type = 'application/json';
        ctx.set('content-disposition', `attachment; filename="${record.customerId.replace(/[^A-Za-z0-9._-]/g, '_')}-export.json"`);
        ctx.body = Readable.from(parts());
        return undefined;
      },
    }),
  ];
}
