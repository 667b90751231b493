import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { customerDocId } from './entityIds';
import { recordDirectoryChange } from './directoryChanges';
import { isDuplicateKeyOnly } from './duplicateKeys';
import { findByIds } from './lookupsById';
import { NotificationSettingsModel, notificationSettingsId } from './notificationSettings';

const customerSchema = new Schema(
  {
    /** customerDocId(networkId, customerId) (entityIds.ts): FerretDB serves only `_id` lookups from an index. */
    _id: { type: String, required: true },
    networkId: { type: String, required: true },
    customerId: { type: String, required: true },
    kind: { type: String, enum: ['member', 'nonmember'], required: true },
    displayName: { type: String, required: true },
    /** Lowercased display name for prefix search. */
    searchName: { type: String, required: true },
    avatarUrl: { type: String },
    locationIds: { type: [String], default: [] },
    hideNameOnBookings: { type: Boolean, default: false },
    status: { type: String, enum: ['active', 'deactivated'], default: 'active' },
    matrixUserId: { type: String, required: true },
    /** Bumped on every change; provisioning job ids carry it so a repeated sync runs once. */
    version: { type: Number, default: 1 },
    provisionedVersion: { type: Number, default: 0 },
    /**
     * Their Synapse account exists (set by provisioning right after registering, before placing them
     * in spaces). A whole-network re-placement covers exactly these people (communitySpaces.ts).
     */
    registeredOnMatrix: { type: Boolean },
    /** Set when deprovisioned with erase: the profile here and on Synapse is gone. */
    erasedAt: { type: Date },
  },
  { timestamps: true, versionKey: false },
);
customerSchema.index({ networkId: 1, customerId: 1 }, { unique: true });
customerSchema.index({ networkId: 1, searchName: 1 });
/** Cursor pages of the Community page and the admins' customer search: (searchName, customerId). */
customerSchema.index({ networkId: 1, searchName: 1, customerId: 1 });

export const CustomerModel = mongoose.model('Customer', customerSchema, 'customers');
export type CustomerDoc = InferSchemaType<typeof customerSchema>;

/** What the host platform (host sync, imports) says about a customer. */
export interface CustomerFields {
  kind: 'member' | 'nonmember';
  displayName: string;
  avatarUrl?: string;
  locationIds: string[];
  hideNameOnBookings: boolean;
  status: 'active' | 'deactivated';
}

/** The stored form of the host's fields (searchName follows from the display name). */
function storedFields(fields: CustomerFields) {
  return { ...fields, searchName: fields.displayName.toLowerCase() };
}

function sameFields(before: CustomerDoc, fields: CustomerFields): boolean {
  const stored = storedFields(fields) as Record<string, unknown>;
  return Object.keys(stored).every((k) => JSON.stringify((before as Record<string, unknown>)[k] ?? undefined) === JSON.stringify(stored[k]));
}

/**
 * Lookups go by `_id`. FerretDB on SQLite serves exactly one filter from an index, `_id` equality
 * (with the build's patch also beside further conditions; `$in` or any filter without `_id` makes it
 * decode the whole collection); on MongoDB this costs nothing. Every customer lookup of a hot path
 * therefore comes through here.
 */
export async function findCustomer(networkId: string, customerId: string): Promise<CustomerDoc | null> {
  return CustomerModel.findById(customerDocId(networkId, customerId)).lean<CustomerDoc>();
}

/** Several customers by `_id` in one query (lookupsById.ts). Missing ones are left out; order is not kept. */
export async function findCustomers(networkId: string, customerIds: readonly string[]): Promise<CustomerDoc[]> {
  return [...(await findByIds<CustomerDoc>(CustomerModel, customerIds.map((id) => customerDocId(networkId, id)))).values()];
}

/**
 * Creates or updates a customer from the host platform. An unchanged customer is not written (its
 * version stays, so provisioning is not repeated). Returns the customer and whether it existed.
 */
export async function upsertCustomer(
  networkId: string,
  customerId: string,
  fields: CustomerFields,
  matrixUserId: string,
): Promise<{ customer: CustomerDoc; created: boolean }> {
  const before = await findCustomer(networkId, customerId);
  if (before && sameFields(before, fields)) return { customer: before, created: false };
  const customer = await CustomerModel.findOneAndUpdate(
    { _id: customerDocId(networkId, customerId) },
    { $set: storedFields(fields), $inc: { version: 1 }, $setOnInsert: { networkId, customerId, matrixUserId } },
    { upsert: true, returnDocument: 'after' },
  ).lean<CustomerDoc>();
  await recordDirectoryChange(networkId, [customerId]);
  return { customer: customer!, created: !before };
}

/** Deactivates a customer (a new version, so the deprovisioning job of this version runs once). */
export async function deactivateCustomer(networkId: string, customerId: string): Promise<CustomerDoc | null> {
  const customer = await CustomerModel.findOneAndUpdate(
    { _id: customerDocId(networkId, customerId) },
    { $set: { status: 'deactivated' }, $inc: { version: 1 } },
    { returnDocument: 'after' },
  ).lean<CustomerDoc>();
  if (customer) await recordDirectoryChange(networkId, [customerId]);
  return customer;
}

/** Removes what identifies an erased customer; the record stays so ids never come back to life. */
export async function eraseCustomerProfile(networkId: string, customerId: string, erasedDisplayName: string): Promise<void> {
  await CustomerModel.updateOne(
    { _id: customerDocId(networkId, customerId) },
    { $set: { displayName: erasedDisplayName, searchName: '', erasedAt: new Date() }, $unset: { avatarUrl: 1 } },
  );
  // Their email address goes too (notification settings), and with it every future email.
  await NotificationSettingsModel.deleteOne({ _id: notificationSettingsId(networkId, 'customer', customerId) });
  await recordDirectoryChange(networkId, [customerId]);
}

/** Records that the customer's Synapse account exists (before they are placed in spaces). */
export async function markCustomerRegisteredOnMatrix(networkId: string, customerId: string): Promise<void> {
  await CustomerModel.updateOne({ _id: customerDocId(networkId, customerId), registeredOnMatrix: { $ne: true } }, { $set: { registeredOnMatrix: true } });
}

/** Marks a customer's virtual user as provisioned up to `version` ($max: never lowers a newer one). */
export async function markCustomerProvisioned(networkId: string, customerId: string, version: number): Promise<void> {
  await CustomerModel.updateOne({ _id: customerDocId(networkId, customerId) }, { $max: { provisionedVersion: version } });
}

/**
 * Statements per update command. FerretDB 1.24 keeps every statement's SQLite result set open until
 * the whole command ends, and each statement's write needs one more connection from its pool of 100:
 * a command of ~100 statements waits for itself forever. Chunks stay far below that, even with
 * several processes writing at once.
 */
const UPDATES_PER_COMMAND = 16;

/**
 * The writes of one process take turns: FerretDB's SQLite backend has one writer and answers
 * "database is locked" to concurrent ones (a real MongoDB does not care).
 */
let writeTurn: Promise<unknown> = Promise.resolve();
function inWriteTurn<T>(write: () => Promise<T>): Promise<T> {
  const turn = writeTurn.then(write, write);
  writeTurn = turn.catch(() => undefined);
  return turn;
}

type CustomerUpdate = Parameters<typeof CustomerModel.bulkWrite>[0][number];

/** Unordered updates, one statement per customer by `_id`, in commands of UPDATES_PER_COMMAND. */
async function updateCustomers(ops: CustomerUpdate[]): Promise<void> {
  for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND) {
    const chunk = ops.slice(i, i + UPDATES_PER_COMMAND);
    await inWriteTurn(() => CustomerModel.bulkWrite(chunk, { ordered: false }));
  }
}

/**
 * Writes a batch of the host's customers (bulk import): new ones inserted, changed ones updated with
 * a new version, unchanged ones left alone; then one directory change for all of them. Returns the
 * customers after the write. Repeating a batch (a retry, a concurrent host sync) is harmless.
 */
export async function writeCustomerBatch(
  networkId: string,
  rows: ReadonlyArray<{ customerId: string; fields: CustomerFields }>,
  matrixUserIdOf: (customerId: string) => string,
): Promise<CustomerDoc[]> {
  const ids = [...new Set(rows.map((r) => r.customerId))];
  const before = new Map((await findCustomers(networkId, ids)).map((c) => [c.customerId, c]));
  const fresh = rows.filter((r) => !before.has(r.customerId));
  const changed = rows.filter((r) => before.has(r.customerId) && !sameFields(before.get(r.customerId)!, r.fields));
  if (fresh.length > 0) {
    await inWriteTurn(() =>
      CustomerModel.insertMany(
        fresh.map((r) => ({
          _id: customerDocId(networkId, r.customerId),
          networkId,
          customerId: r.customerId,
          ...storedFields(r.fields),
          matrixUserId: matrixUserIdOf(r.customerId),
          version: 1,
          provisionedVersion: 0,
        })),
        { ordered: false },
      ),
    ).catch((err) => {
      // Inserted meanwhile (a retry of this batch, or a host sync of the same customer): fine.
      if (!isDuplicateKeyOnly(err)) throw err;
    });
  }
  if (changed.length > 0) {
    await updateCustomers(
      changed.map((r) => ({
        updateOne: { filter: { _id: customerDocId(networkId, r.customerId) }, update: { $set: storedFields(r.fields), $inc: { version: 1 } } },
      })),
    );
  }
  if (fresh.length + changed.length > 0) await recordDirectoryChange(networkId, [...fresh, ...changed].map((r) => r.customerId));
  return findCustomers(networkId, ids);
}

/**
 * Marks many customers provisioned, one statement each by `_id` (FerretDB decodes the whole
 * collection for an `$in`; measured on 20,000 customers: 100 documents in 0.08 s this way, 0.54 s
 * with `$in`).
 */
export async function markCustomersProvisioned(networkId: string, provisioned: ReadonlyArray<{ customerId: string; version: number }>): Promise<void> {
  await updateCustomers(
    provisioned.map((p) => ({
      // Provisioned by an import batch: registered on Synapse too (the import's placement follows).
      updateOne: { filter: { _id: customerDocId(networkId, p.customerId) }, update: { $max: { provisionedVersion: p.version }, $set: { registeredOnMatrix: true } } },
    })),
  );
}
