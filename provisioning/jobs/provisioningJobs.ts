import { UnrecoverableError, Worker } from 'bullmq';
import { MatrixError } from '../../appservice';
import { runChatsToggle } from './chatsToggleFanout';
import { runCustomerDeprovision } from './customerDeprovisioning';
import { runCustomerImport, runCustomerImportBatch } from './customerImport';
import type { JobContext } from './jobContext';
import { isPermanentMatrixError, matrixErrorReason } from './matrixFailures';
import type { ProvisioningJob } from '../provisioningQueue';
import { syncSupportRoomMembership } from './supportRoomMembership';
import { runSpacePlacement } from './spacePlacement';
import { runCustomerExport } from './customerExport';
import { MatrixAccess } from '../matrixAccess';
import {
  findAdministrator,
  findCustomer,
  markAdministratorProvisioned,
  markAdministratorRegisteredOnMatrix,
  markCustomerProvisioned,
  markCustomerRegisteredOnMatrix,
} from '../../store';

/** Synapse's wait is honoured even without retry_after_ms; one second is its usual minimum. */
const DEFAULT_RATE_LIMIT_MS = 1000;

/**
 * What each provisioning job does. Every job reads the current record from MongoDB (the job carries
 * ids, not data), so a late or repeated job converges on the latest state and changes nothing twice.
 */
export function createProvisioningProcessor(ctx: JobContext) {
  return async (job: ProvisioningJob, token?: string): Promise<unknown> => {
    try {
      return await runJob(ctx, job, token ?? '');
    } catch (err) {
      if (err instanceof MatrixError && err.status === 429) {
        // Synapse asked every caller to wait: pause the whole queue for that long and hand the
        // job back without spending one of its attempts.
        const waitMs = err.retryAfterMs ?? DEFAULT_RATE_LIMIT_MS;
        ctx.log.warn({ jobId: job.id, waitMs }, 'Synapse rate limit: pausing the provisioning queue');
        await ctx.queue.queue.rateLimit(waitMs);
        throw Worker.RateLimitError();
      }
      if (isPermanentMatrixError(err)) throw new UnrecoverableError(matrixErrorReason(err));
      throw err;
    }
  };
}

function runJob(ctx: JobContext, job: ProvisioningJob, token: string): Promise<unknown> {
  switch (job.data.kind) {
    case 'customer':
      return provisionCustomer(ctx, job);
    case 'admin':
      return provisionAdmin(ctx, job);
    case 'customer-import':
      return runCustomerImport(ctx, job, token);
    case 'customer-import-batch':
      return runCustomerImportBatch(ctx, job, token);
    case 'chats-toggle':
      return runChatsToggle(ctx, job, token);
    case 'customer-deprovision':
      return runCustomerDeprovision(ctx, job);
    case 'space-placement':
      return runSpacePlacement(ctx, job);
    case 'customer-export':
      return runCustomerExport(ctx, job);
  }
}

async function provisionCustomer(ctx: JobContext, job: ProvisioningJob) {
  const data = job.data as Extract<ProvisioningJob['data'], { kind: 'customer' }>;
  const customer = await findCustomer(data.networkId, data.customerId);
  if (!customer) return { skipped: 'customer no longer exists' };
  const access = new MatrixAccess(ctx.services.matrix, ctx.synapseAdmin, ctx.log);
  if (customer.status === 'deactivated') {
    // Both doors close: no token of theirs works on Synapse, and the spaces (the Community page
    // as Matrix clients see it) no longer list them. Their conversations keep their history.
    await ctx.services.spaces.placeCustomer(data.networkId, data.customerId, customer.matrixUserId);
    if (ctx.synapseAdmin.configured) await access.lock(data.networkId, customer.matrixUserId);
    await markCustomerProvisioned(data.networkId, data.customerId, customer.version);
    return { matrixUserId: customer.matrixUserId, status: customer.status };
  }
  await access.unlockIfLocked(customer.matrixUserId);
  const matrixUserId = await ctx.services.virtualUsers.ensure(
    { kind: 'customer', networkId: data.networkId, id: data.customerId },
    { displayName: customer.displayName, avatarUrl: customer.avatarUrl },
  );
  // Recorded before placing them: a whole-network re-placement that starts from now on includes
  // them, and one that started earlier read the network before this job reads it (their places
  // cannot be left as an older visibility wanted them).
  if (!customer.registeredOnMatrix) await markCustomerRegisteredOnMatrix(data.networkId, data.customerId);
  // Spaces follow locations, status and privacy, all of which this change may have touched.
  await ctx.services.spaces.placeCustomer(data.networkId, data.customerId, matrixUserId);
  await markCustomerProvisioned(data.networkId, data.customerId, customer.version);
  ctx.log.debug({ jobId: job.id, matrixUserId }, 'customer provisioned');
  return { matrixUserId };
}

async function provisionAdmin(ctx: JobContext, job: ProvisioningJob) {
  const data = job.data as Extract<ProvisioningJob['data'], { kind: 'admin' }>;
  const admin = await findAdministrator(data.networkId, data.adminId);
  if (!admin) return { skipped: 'administrator no longer exists' };
  const access = new MatrixAccess(ctx.services.matrix, ctx.synapseAdmin, ctx.log);
  if (admin.status === 'active') {
    await access.unlockIfLocked(admin.matrixUserId);
    await ctx.services.virtualUsers.ensure({ kind: 'admin', networkId: data.networkId, id: data.adminId }, { displayName: admin.displayName });
    if (!admin.registeredOnMatrix) await markAdministratorRegisteredOnMatrix(data.networkId, data.adminId);
  } else if (ctx.synapseAdmin.configured) {
    await access.lock(data.networkId, admin.matrixUserId);
  }
  const supportRooms = await syncSupportRoomMembership(ctx, job, admin);
  await ctx.services.spaces.placeAdministrator(data.networkId, admin.matrixUserId, admin.status === 'active');
  await markAdministratorProvisioned(data.networkId, data.adminId, admin.version);
  return { matrixUserId: admin.matrixUserId, status: admin.status, supportRooms };
}
