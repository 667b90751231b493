import mongoose, { Schema } from 'mongoose';

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
