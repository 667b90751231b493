import mongoose, { Schema } from 'mongoose';

const locationSchema = new Schema(
  {
    networkId: { type: String, required: true },
    locationId: { type: String, required: true },
    name: { type: String, required: true },
    spaceRoomId: { type: String },
  },
  { timestamps: true, versionKey: false },
);
locationSchema.index({ networkId: 1, locationId: 1 }, { unique: true });

export const LocationModel = mongoose.model('Location', locationSchema, 'locations');

/** Creates or renames a location; true when it is new. */
export async function upsertLocation(networkId: string, locationId: string, name: string): Promise<{ created: boolean }> {
  const res = await LocationModel.updateOne({ networkId, locationId }, { $set: { name } }, { upsert: true });
  return { created: res.upsertedCount > 0 };
}
