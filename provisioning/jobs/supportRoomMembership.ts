import { forEachLimit } from './boundedConcurrency';
import type { JobContext } from './jobContext';
import type { ProvisioningJob } from '../provisioningQueue';
import { ConversationModel } from '../../store';

const ROOM_CONCURRENCY = 8;
const REMOVED_REASON = 'No longer an administrator of this network';

export interface AdministratorMembership {
  networkId: string;
  matrixUserId: string;
  status: string;
}

/**
 * Every administrator of a network takes part in every support conversation (rule 2): an active
 * administrator is joined to each support room of the network, a removed one is kicked from them.
 * Membership is read before anything is sent, so a repeated job changes nothing.
 */
export async function syncSupportRoomMembership(
  ctx: JobContext,
  job: ProvisioningJob,
  admin: AdministratorMembership,
): Promise<{ rooms: number; changed: number }> {
  const { matrix, conversations } = ctx.services;
  const rooms = await ConversationModel.find({ networkId: admin.networkId, kind: 'support', roomId: { $exists: true } })
    .select({ roomId: 1 })
    .lean();
  const active = admin.status === 'active';
  let done = 0;
  let changed = 0;
  await forEachLimit(rooms, ROOM_CONCURRENCY, async ({ roomId }) => {
    const member = await matrix.getState<{ membership?: string }>(roomId!, 'm.room.member', admin.matrixUserId);
    const membership = member?.membership;
    if (active && membership !== 'join') {
      await conversations.rooms.ensureJoined(roomId!, admin.matrixUserId);
      changed++;
    } else if (!active && (membership === 'join' || membership === 'invite')) {
      await matrix.kick(roomId!, admin.matrixUserId, REMOVED_REASON);
      changed++;
    }
    done++;
    if (done % 25 === 0) await job.updateProgress(Math.floor((100 * done) / rooms.length));
  });
  return { rooms: rooms.length, changed };
}
