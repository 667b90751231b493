import mongoose, { Schema } from 'mongoose';

/**
 * Matrix accounts the service has locked on Synapse because their person was deactivated (host
 * sync) or removed (administrators), by Matrix user id. Insert on lock, delete on unlock: no
 * read-change-write on a shared document, so concurrent jobs cannot undo each other, and an
 * active person's provisioning knows without asking Synapse whether there is a lock to lift.
 */
const lockedMatrixAccountSchema = new Schema(
  { _id: { type: String, required: true }, networkId: { type: String, required: true }, lockedAt: { type: Date, required: true } },
  { versionKey: false },
);

export const LockedMatrixAccountModel = mongoose.model('LockedMatrixAccount', lockedMatrixAccountSchema, 'locked_matrix_accounts');

export async function recordMatrixAccountLocked(networkId: string, matrixUserId: string): Promise<void> {
  await LockedMatrixAccountModel.updateOne({ _id: matrixUserId }, { $setOnInsert: { networkId, lockedAt: new Date() } }, { upsert: true });
}

export async function isMatrixAccountLocked(matrixUserId: string): Promise<boolean> {
  return (await LockedMatrixAccountModel.exists({ _id: matrixUserId })) !== null;
}

export async function recordMatrixAccountUnlocked(matrixUserId: string): Promise<void> {
  await LockedMatrixAccountModel.deleteOne({ _id: matrixUserId });
}
