import { isDeepStrictEqual } from 'node:util';
import { DelayedError } from 'bullmq';
import { restoreSavedPowerLevels, botUserId } from '../../appservice';
import { forEachLimit } from './boundedConcurrency';
import type { JobContext } from './jobContext';
import type { ProvisioningJob } from '../provisioningQueue';
import { ConversationModel, findNetwork, SavedPowerLevelsModel } from '../../store';

/**
 * Rule 1 on the Matrix side: with a network's chats off, every conversation room is read-only for
 * its participants (their Matrix clients cannot send anything either); turning chats on puts back
 * exactly the power levels each room had. Nothing is deleted.
 */

const PAGE_SIZE = 200;
const ROOM_CONCURRENCY = 16;
const LOCK_TTL_MS = 60000;
const LOCKED_RETRY_MS = 1000;

/**
 * The read-only variant of a room's power levels: every event type, and the default for the
 * others, needs more power than any participant has. The level needed to change power levels is
 * kept, so the service can always restore them.
 */
export function readOnlyPowerLevels(content: Record<string, unknown>, serviceUserId: string): Record<string, unknown> {
  const users = (content.users ?? {}) as Record<string, unknown>;
  const usersDefault = level(content.users_default, 0);
  const participantLevels = Object.entries(users)
    .filter(([userId]) => userId !== serviceUserId)
    .map(([, l]) => level(l, 0));
  const muted = Math.max(100, usersDefault + 1, ...participantLevels.map((l) => l + 1));
  const stateDefault = level(content.state_default, 50);
  const events = Object.fromEntries(
    Object.entries((content.events ?? {}) as Record<string, unknown>).map(([type, l]) => [type, Math.max(level(l, 0), muted)]),
  );
  events['m.room.power_levels'] = level((content.events as Record<string, unknown> | undefined)?.['m.room.power_levels'], stateDefault);
  return {
    ...content,
    events_default: Math.max(level(content.events_default, 0), muted),
    state_default: Math.max(stateDefault, muted),
    events,
  };
}

function level(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export interface ChatsToggleResult {
  chatsEnabled: boolean;
  rooms: number;
  changed: number;
}

/**
 * Brings every conversation room of the network to the network's *current* flag (not the flag the
 * job was queued with), one job per network at a time: whichever toggle runs last, the rooms end
 * as the flag says, and a repeated job changes nothing.
 */
export async function runChatsToggle(ctx: JobContext, job: ProvisioningJob, token: string): Promise<ChatsToggleResult> {
  const { networkId } = job.data;
  const lock = new NetworkLock(ctx, networkId, job.id!);
  if (!(await lock.acquire())) {
    await job.moveToDelayed(Date.now() + LOCKED_RETRY_MS, token);
    throw new DelayedError();
  }
  try {
    const network = await findNetwork(networkId);
    if (!network) return { chatsEnabled: true, rooms: 0, changed: 0 };
    const enabled = network.chatsEnabled;
    const filter = { networkId, roomId: { $exists: true } };
    const total = await ConversationModel.countDocuments(filter);
    const serviceUser = botUserId(ctx.services.config.matrixDomain);
    const failures: string[] = [];
    let done = 0;
    let changed = 0;
    let after = '';
    for (;;) {
      if (ctx.shuttingDown()) {
        // Handed back to the queue; rooms done so far are skipped quickly by whoever takes it.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      const page = await ConversationModel.find({ ...filter, _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(PAGE_SIZE)
        .select({ roomId: 1 })
        .lean();
      if (page.length === 0) break;
      after = page[page.length - 1]!._id;
      const roomIds = page.map((c) => c.roomId!);
      const saved = new Map(
        (await SavedPowerLevelsModel.find({ _id: { $in: roomIds } }).lean()).map((s) => [s._id, s.contentJson] as const),
      );
      await forEachLimit(roomIds, ROOM_CONCURRENCY, async (roomId) => {
        try {
          const room = { networkId, roomId, saved: saved.get(roomId) };
          if (await (enabled ? restoreRoom(ctx, room) : makeRoomReadOnly(ctx, room, serviceUser))) changed++;
        } catch (err) {
          failures.push(`${roomId}: ${(err as Error).message}`);
        }
      });
      done += page.length;
      await lock.extend();
      await job.updateProgress(Math.floor((100 * done) / Math.max(total, 1)));
    }
    if (failures.length > 0) {
      // Retried with backoff; rooms already done cost one read each on the next attempt.
      throw new Error(`${failures.length} of ${total} rooms could not be changed; first: ${failures.slice(0, 3).join('; ')}`);
    }
    ctx.log.info({ networkId, chatsEnabled: enabled, rooms: total, changed }, 'chats toggle applied to the rooms');
    return { chatsEnabled: enabled, rooms: total, changed };
  } finally {
    await lock.release();
  }
}

interface RoomToToggle {
  networkId: string;
  roomId: string;
  /** The saved power levels (JSON) when the room is read-only already. */
  saved?: string;
}

async function makeRoomReadOnly(ctx: JobContext, room: RoomToToggle, serviceUser: string): Promise<boolean> {
  const api = ctx.services.matrix;
  const current = await api.getState(room.roomId, 'm.room.power_levels');
  if (!current) throw new Error('the room has no power levels');
  let original = room.saved ? (JSON.parse(room.saved) as Record<string, unknown>) : null;
  if (!original) {
    original = current;
    // Saved before the change: a crash between the two leaves a copy, never a lost original.
    await SavedPowerLevelsModel.updateOne(
      { _id: room.roomId },
      { $setOnInsert: { networkId: room.networkId, contentJson: JSON.stringify(current) } },
      { upsert: true },
    );
  }
  const target = readOnlyPowerLevels(original, serviceUser);
  if (isDeepStrictEqual(current, target)) return false;
  await api.putState(room.roomId, 'm.room.power_levels', '', target);
  return true;
}

async function restoreRoom(ctx: JobContext, room: RoomToToggle): Promise<boolean> {
  if (!room.saved) return false;
  return (await restoreSavedPowerLevels(ctx.services.matrix, room.roomId, room.saved)).changed;
}

/** One toggle job per network at a time; a job that died keeps it only until the TTL runs out. */
class NetworkLock {
  private readonly key: string;

  constructor(
    private readonly ctx: JobContext,
    networkId: string,
    private readonly owner: string,
  ) {
    this.key = `provisioning:chats-toggle-lock:${networkId}`;
  }

  async acquire(): Promise<boolean> {
    // The same job may take its own lock again (a retry after a crash).
    const got = await this.ctx.redis.eval(
      `local v = redis.call('get', KEYS[1])
       if v == false or v == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
       return 0`,
      1,
      this.key,
      this.owner,
      String(LOCK_TTL_MS),
    );
    return got === 1;
  }

  async extend(): Promise<void> {
    await this.acquire();
  }

  async release(): Promise<void> {
    await this.ctx.redis.eval(
      `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`,
      1,
      this.key,
      this.owner,
    );
  }
}
