import mongoose, { Schema } from 'mongoose';

/**
 * Every administrator a network has had, by network: how a network's administrators are found by
 * `_id` (the roster, then their documents in one `$in` query) instead of a search by network, which
 * FerretDB answers by decoding every administrator of every network (several times per support
 * message). Ids are only ever added (`$addToSet` on each host sync of the administrator, so a
 * change lost to a concurrent write comes back with the next sync); whether one is still active
 * is their own document's status.
 */
const administratorRosterSchema = new Schema(
  {
    /** The network id. */
    _id: { type: String, required: true },
    adminIds: { type: [String], required: true },
  },
  { versionKey: false },
);

export const AdministratorRosterModel = mongoose.model('AdministratorRoster', administratorRosterSchema, 'administrator_rosters');

export async function addToAdministratorRoster(networkId: string, adminId: string): Promise<void> {
  await AdministratorRosterModel.updateOne({ _id: networkId }, { $addToSet: { adminIds: adminId } }, { upsert: true });
}

export async function administratorRoster(networkId: string): Promise<string[]> {
  return (await AdministratorRosterModel.findById(networkId).lean<{ adminIds: string[] }>())?.adminIds ?? [];
}
