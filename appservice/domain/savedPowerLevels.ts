import { isDeepStrictEqual } from 'node:util';
import type { MatrixApi } from '../matrix/matrixApi';
import { SavedPowerLevelsModel } from '../../store';


/**
 * Puts back a room's saved power levels (the room was made read-only while chats were off) and
 * forgets the copy. Returns whether a copy existed. Used by the toggle's fan-out and, when a send
 * is refused in a network whose chats are on again before the fan-out reached the room, by the
 * send path itself, so a participant never waits for the queue.
 */
export async function restoreSavedPowerLevels(api: MatrixApi, roomId: string, saved?: string): Promise<{ existed: boolean; changed: boolean }> {
  const contentJson = saved ?? (await SavedPowerLevelsModel.findById(roomId).lean())?.contentJson;
  if (!contentJson) return { existed: false, changed: false };
  const original = JSON.parse(contentJson) as Record<string, unknown>;
  const current = await api.getState(roomId, 'm.room.power_levels');
  const changed = !isDeepStrictEqual(current, original);
  if (changed) await api.putState(roomId, 'm.room.power_levels', '', original);
  await SavedPowerLevelsModel.deleteOne({ _id: roomId });
  return { existed: true, changed };
}
