import { DelayedError, Job, WaitingChildrenError, type Queue } from 'bullmq';
import { MatrixError, virtualUserId, virtualUserLocalpart, type VirtualUserRef } from '../../appservice';
import type { ImportFailure, ImportRow } from '../commands/customerImportRows';
import type { JobContext } from './jobContext';
import { IMPORT_BATCH_PRIORITY, type ProvisioningJob, type ProvisioningJobData } from '../provisioningQueue';
import { forEachLimit } from './boundedConcurrency';
import { isPermanentMatrixError, matrixErrorReason } from './matrixFailures';
import { markCustomersProvisioned, writeCustomerBatch, type CustomerDoc, type CustomerFields } from '../../store';

/**
 * Bulk import: one parent job per import, one child job per batch of rows. Batches run on every
 * worker in parallel (each one a BullMQ job with its own retries), so a worker that dies loses at
 * most the batches it held, which another worker redoes after their lock expires. Everything a
 * batch does is idempotent: MongoDB upserts compare fields first, and Synapse registration answers
 * "in use" for a user that exists.
 */

export const IMPORT_BATCH_SIZE = 100;
/** Per batch; with the worker's concurrency this keeps Synapse busy while batches wait on MongoDB. */
const CUSTOMERS_IN_FLIGHT = 4;

export interface ImportBatchResult {
  rows: number;
  provisioned: number;
  unchanged: number;
  failures: ImportFailure[];
}

export interface ImportSummary {
  total: number;
  invalid: number;
  provisioned: number;
  unchanged: number;
  failed: number;
}

type ImportJobData = Extract<ProvisioningJobData, { kind: 'customer-import' }>;
type BatchJobData = Extract<ProvisioningJobData, { kind: 'customer-import-batch' }>;

export async function runCustomerImport(ctx: JobContext, job: ProvisioningJob, token: string): Promise<ImportSummary> {
  const data = job.data as ImportJobData;
  if (data.batches === undefined) {
    const batches: ImportRow[][] = [];
    for (let i = 0; i < data.rows.length; i += IMPORT_BATCH_SIZE) batches.push(data.rows.slice(i, i + IMPORT_BATCH_SIZE));
    // Batch ids derive from the import's id: queuing them again after a crash adds nothing.
    await ctx.queue.queue.addBulk(
      batches.map((rows, i) => ({
        name: 'import-customers-batch',
        data: { kind: 'customer-import-batch' as const, networkId: data.networkId, rows },
        opts: {
          jobId: `${job.id}.b${i}`,
          parent: { id: job.id!, queue: job.queueQualifiedName },
          priority: IMPORT_BATCH_PRIORITY,
          // A batch that fails for good is reported with its rows; the others still finish.
          ignoreDependencyOnFailure: true,
        },
      })),
    );
    await job.updateData({ ...data, rows: [], batches: batches.length });
  }
  if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
  const report = await importReport(job, ctx.queue.queue);
  ctx.log.info({ jobId: job.id, ...report.summary }, 'customer import finished');
  // Imported customers get their places in the network's spaces: one follow-up job for all of them.
  if (report.summary.provisioned > 0) await ctx.queue.placeInSpaces(data.networkId);
  return report.summary;
}

/** Progress and failures of an import so far, read from its batches (for GET /v1/jobs/:id). */
export async function importReport(job: ProvisioningJob, queue: Queue<ProvisioningJobData>): Promise<{ progress: number; summary: ImportSummary; failures: ImportFailure[] }> {
  const data = job.data as ImportJobData;
  const failures: ImportFailure[] = [...data.invalid];
  const summary: ImportSummary = { total: data.total, invalid: data.invalid.length, provisioned: 0, unchanged: 0, failed: 0 };
  let done = data.invalid.length;
  for (const result of Object.values(await job.getChildrenValues<ImportBatchResult>())) {
    done += result.rows;
    summary.provisioned += result.provisioned;
    summary.unchanged += result.unchanged;
    failures.push(...result.failures);
  }
  for (const [key, reason] of Object.entries(await job.getIgnoredChildrenFailures())) {
    const batch = await Job.fromId<BatchJobData>(queue, key.slice(key.lastIndexOf(':') + 1));
    for (const row of batch?.data.rows ?? []) {
      done++;
      failures.push({ row: row.row, customerId: row.customerId, reason: `batch failed: ${reason}` });
    }
  }
  summary.failed = failures.length - data.invalid.length;
  return { progress: data.total === 0 ? 100 : Math.floor((100 * done) / data.total), summary, failures };
}

export async function runCustomerImportBatch(ctx: JobContext, job: ProvisioningJob, token: string): Promise<ImportBatchResult> {
  const { networkId, rows } = job.data as BatchJobData;
  const current = await writeCustomerBatch(
    networkId,
    rows.map((r) => ({ customerId: r.customerId, fields: customerFields(r) })),
    (customerId) => virtualUserId(ref(networkId, customerId), ctx.services.config.matrixDomain),
  );
  if (ctx.shuttingDown()) await handBack(job, token);
  const rowOf = new Map(rows.map((r) => [r.customerId, r]));
  const pending = current.filter((c) => c.status === 'active' && (c.provisionedVersion ?? 0) < (c.version ?? 1));
  const provisioned: Array<{ customerId: string; version: number }> = [];
  const failures: ImportFailure[] = [];
  let handedBack = false;
  try {
    await forEachLimit(pending, CUSTOMERS_IN_FLIGHT, async (customer) => {
      if (ctx.shuttingDown()) {
        handedBack = true;
        return;
      }
      try {
        await provisionCustomerUser(ctx, networkId, customer);
        provisioned.push({ customerId: customer.customerId, version: customer.version ?? 1 });
      } catch (err) {
        if (!isPermanentMatrixError(err)) throw err;
        failures.push({ row: rowOf.get(customer.customerId)!.row, customerId: customer.customerId, reason: matrixErrorReason(err as MatrixError) });
      }
    });
  } finally {
    // Recorded even when the batch stops half-way, so its retry skips who is done.
    if (provisioned.length > 0) await markCustomersProvisioned(networkId, provisioned);
  }
  if (handedBack) await handBack(job, token);
  return { rows: rows.length, provisioned: provisioned.length, unchanged: rows.length - pending.length, failures };
}

/**
 * The worker is stopping: the rest of the batch goes back to the queue now (without spending an
 * attempt) instead of waiting for this worker's lock to expire.
 */
async function handBack(job: ProvisioningJob, token: string): Promise<never> {
  await job.moveToDelayed(Date.now(), token);
  throw new DelayedError();
}

/**
 * A customer seen for the first time costs two requests (register, display name); one that Synapse
 * already knows goes through the compare-then-write path of VirtualUserService.
 */
async function provisionCustomerUser(ctx: JobContext, networkId: string, customer: CustomerDoc): Promise<void> {
  const { matrix, virtualUsers } = ctx.services;
  const who = ref(networkId, customer.customerId);
  const profile = { displayName: customer.displayName, avatarUrl: customer.avatarUrl };
  if ((customer.provisionedVersion ?? 0) === 0 && (await matrix.registerVirtualUser(virtualUserLocalpart(who)))) {
    const userId = virtualUsers.userId(who);
    await matrix.setDisplayName(userId, profile.displayName);
    if (profile.avatarUrl?.startsWith('mxc://')) await matrix.setAvatarUrl(userId, profile.avatarUrl);
    return;
  }
  await virtualUsers.ensure(who, profile);
}


function ref(networkId: string, customerId: string): VirtualUserRef {
  return { kind: 'customer', networkId, id: customerId };
}

function customerFields(r: ImportRow): CustomerFields {
  return {
    kind: r.kind,
    displayName: r.displayName,
    avatarUrl: r.avatarUrl ?? undefined,
    locationIds: r.locationIds,
    hideNameOnBookings: r.hideNameOnBookings,
    status: r.status,
  };
}


