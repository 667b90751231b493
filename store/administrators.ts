import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { adminDocId } from './entityIds';
import { addToAdministratorRoster, administratorRoster } from './administratorRosters';
import { findByIds } from './lookupsById';

const administratorSchema = new Schema(
  {
    /** adminDocId(networkId, adminId) (entityIds.ts). */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    adminId: { type: String, required: true },
    displayName: { type: String, required: true },
    notifications: {
      inApp: { type: Boolean, default: true },
      webhook: { type: Boolean, default: true },
    },
    status: { type: String, enum: ['active', 'removed'], default: 'active' },
    matrixUserId: { type: String, required: true },
    version: { type: Number, default: 1 },
    provisionedVersion: { type: Number, default: 0 },
    /** Their Synapse account exists (as for customers: set before they are placed in spaces). */
    registeredOnMatrix: { type: Boolean },
  },
  { timestamps: true, versionKey: false },
);
administratorSchema.index({ networkId: 1, adminId: 1 }, { unique: true });
export const AdministratorModel = mongoose.model('Administrator', administratorSchema, 'administrators');
export type AdministratorDoc = InferSchemaType<typeof administratorSchema>;

export async function findAdministrator(networkId: string, adminId: string): Promise<AdministratorDoc | null> {
  return AdministratorModel.findById(adminDocId(networkId, adminId)).lean<AdministratorDoc>();
}

/** The network's active administrators (support rooms, notifications). */
export async function activeAdministrators(networkId: string): Promise<AdministratorDoc[]> {
  const ids = await administratorRoster(networkId);
  if (ids.length === 0) return [];
  const admins = await findByIds<AdministratorDoc & { _id: string }>(AdministratorModel, ids.map((id) => adminDocId(networkId, id)));
  // In roster order (the order they were first synced), the active ones.
  return ids.flatMap((id) => admins.get(adminDocId(networkId, id)) ?? []).filter((a) => a.status === 'active');
}

/** Creates or updates (and reactivates) an administrator from the host platform; a new version each time. */
export async function upsertAdministrator(
  networkId: string,
  adminId: string,
  fields: { displayName: string; notifications?: { inApp?: boolean; webhook?: boolean } },
  matrixUserId: string,
): Promise<AdministratorDoc> {
  const n = fields.notifications;
  const admin = await AdministratorModel.findOneAndUpdate(
    { _id: adminDocId(networkId, adminId) },
    {
      $set: {
        displayName: fields.displayName,
        status: 'active',
        ...(n?.inApp !== undefined ? { 'notifications.inApp': n.inApp } : {}),
        ...(n?.webhook !== undefined ? { 'notifications.webhook': n.webhook } : {}),
      },
      $inc: { version: 1 },
      $setOnInsert: { networkId, adminId, matrixUserId },
    },
    { upsert: true, returnDocument: 'after' },
  ).lean<AdministratorDoc>();
  await addToAdministratorRoster(networkId, adminId);
  return admin!;
}

/** Marks an administrator removed; removing twice keeps the version (one job). Null: unknown. */
export async function removeAdministrator(networkId: string, adminId: string): Promise<AdministratorDoc | null> {
  const before = await findAdministrator(networkId, adminId);
  if (!before || before.status === 'removed') return before;
  return AdministratorModel.findOneAndUpdate(
    { _id: adminDocId(networkId, adminId) },
    { $set: { status: 'removed' }, $inc: { version: 1 } },
    { returnDocument: 'after' },
  ).lean<AdministratorDoc>();
}

export async function markAdministratorRegisteredOnMatrix(networkId: string, adminId: string): Promise<void> {
  await AdministratorModel.updateOne({ _id: adminDocId(networkId, adminId), registeredOnMatrix: { $ne: true } }, { $set: { registeredOnMatrix: true } });
}

export async function markAdministratorProvisioned(networkId: string, adminId: string, version: number): Promise<void> {
  await AdministratorModel.updateOne({ _id: adminDocId(networkId, adminId) }, { $max: { provisionedVersion: version } });
}
