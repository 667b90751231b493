import { UnrecoverableError } from 'bullmq';
import { NotFoundError } from '../../runtime';
import { MatrixError } from '../../appservice';
import { forEachLimit } from './boundedConcurrency';
import type { JobContext } from './jobContext';
import type { ProvisioningJob, ProvisioningJobData, ProvisioningQueue } from '../provisioningQueue';
import { SynapseAdminUnavailableError } from '../synapseAdminApi';
import { ConversationModel, eraseCustomerProfile, findCustomer } from '../../store';

/**
 * Deprovisioning a customer: marked deactivated at once (the portal and the rules stop treating
 * them as reachable), then a job makes their virtual user leave every conversation room and
 * deactivates the Matrix account. With erase, their messages are redacted first (Synapse's admin
 * redaction task, so every participant and every Matrix client sees them gone) and the profile is
 * removed on Synapse and here.
 */

const ERASED_DISPLAY_NAME = 'Former customer';
const REDACTION_REASON = 'Erased at the customer’s request';
const LEAVE_REASON = 'Account closed';
const REDACTION_POLL_MS = 250;
const REDACTION_WAIT_MS = 10 * 60 * 1000;
const ROOM_CONCURRENCY = 8;

export interface DeprovisionResult {
  rooms: number;
  erased: boolean;
}

type DeprovisionJobData = Extract<ProvisioningJobData, { kind: 'customer-deprovision' }>;

export async function runCustomerDeprovision(ctx: JobContext, job: ProvisioningJob): Promise<DeprovisionResult | { skipped: string }> {
  const data = job.data as DeprovisionJobData;
  const { networkId, customerId, erase } = data;
  const customer = await findCustomer(networkId, customerId);
  if (!customer) return { skipped: 'customer no longer exists' };
  if (customer.status !== 'deactivated') return { skipped: 'customer was reactivated since' };
  if (!ctx.synapseAdmin.configured) throw new UnrecoverableError(new SynapseAdminUnavailableError().message);
  const userId = customer.matrixUserId;
  const rooms = (
    await ConversationModel.find({ networkId, customerIds: customerId, roomId: { $exists: true } })
      .select({ roomId: 1 })
      .lean()
  ).map((c) => c.roomId!);

  if (erase && rooms.length > 0) await redactEverything(ctx, job, data, userId, rooms);
  await job.updateProgress(60);

  await forEachLimit(rooms, ROOM_CONCURRENCY, async (roomId) => {
    try {
      await ctx.services.matrix.leave(roomId, userId, LEAVE_REASON);
    } catch (err) {
      // Not (or no longer) in the room: the goal is reached.
      if (!(err instanceof MatrixError && (err.status === 403 || err.status === 404))) throw err;
    }
  });
  await job.updateProgress(80);

  try {
    await ctx.synapseAdmin.deactivate(userId, erase);
  } catch (err) {
    // Never registered on Synapse: there is no account to close.
    if (!(err instanceof MatrixError && err.status === 404)) throw err;
  }

  if (erase) {
    await eraseCustomerProfile(networkId, customerId, ERASED_DISPLAY_NAME);
    // The conversation list's preview must not keep what the redactions removed.
    await ConversationModel.updateMany(
      { networkId, customerIds: customerId, 'lastMessage.senderId': customerId },
      { $set: { 'lastMessage.body': '' } },
    );
  }
  ctx.log.info({ networkId, customerId, rooms: rooms.length, erase }, 'customer deprovisioned');
  return { rooms: rooms.length, erased: erase };
}

/** Starts (or, on a retry, keeps waiting for) Synapse's redaction task for the user's messages. */
async function redactEverything(ctx: JobContext, job: ProvisioningJob, data: DeprovisionJobData, userId: string, rooms: string[]) {
  let redactId = data.redactId;
  if (!redactId) {
    redactId = await ctx.synapseAdmin.startRedaction(userId, rooms, REDACTION_REASON);
    await job.updateData({ ...data, redactId });
  }
  const deadline = Date.now() + REDACTION_WAIT_MS;
  for (;;) {
    const status = await ctx.synapseAdmin.redactionStatus(redactId);
    const failed = Object.entries(status.failedRedactions);
    if (status.status === 'complete' && failed.length === 0) return;
    if (status.status === 'complete' || status.status === 'failed') {
      // A new task on the retry: Synapse skips the events it redacted already.
      await job.updateData({ ...data, redactId: undefined });
      const detail = failed.slice(0, 3).map(([eventId, reason]) => `${eventId}: ${reason}`).join('; ');
      throw new Error(`Synapse could not redact ${failed.length || 'some'} messages${detail ? `: ${detail}` : ''}`);
    }
    if (Date.now() > deadline) throw new Error(`Synapse's redaction task ${redactId} did not finish in time`);
    await new Promise((r) => setTimeout(r, REDACTION_POLL_MS));
  }
}
