import { isDeepStrictEqual } from 'node:util';
import mongoose, { Schema } from 'mongoose';
import type { MatrixApi } from '../matrix/matrixApi';

/**
 * A conversation room's power levels as they were before the network's chats were turned off, so
 * turning them back on restores exactly that. One document per room, present only while the room
 * is read-only. The content is JSON text: its keys ("m.room.message") contain dots, which FerretDB
 * refuses as field names.
 */
const savedPowerLevelsSchema = new Schema(
  {
    /** The Matrix room id. */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    contentJson: { type: String, required: true },
  },
  { timestamps: true, versionKey: false },
);
savedPowerLevelsSchema.index({ networkId: 1 });

export const SavedPowerLevelsModel = mongoose.model('SavedPowerLevels', savedPowerLevelsSchema, 'saved_power_levels');

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
