import mongoose, { Schema } from 'mongoose';
import { directoryChangeId } from './entityIds';
import { NetworkModel } from './networks';

/**
 * The directory change record. Every customer write that can change what the Community page or
 * the customer search shows moves the network's `directoryRevision`, after the write, and records
 * which customers it touched under the new revision (null: possibly any). The in-memory name index
 * (appservice/domain/directoryCache.ts) compares revisions on every request and catches up by
 * reading just those customers. Called by the customer writes of customers.ts, nowhere else.
 */

/** Changes kept per network; a name index further behind than this reloads the whole network. */
export const DIRECTORY_CHANGES_KEPT = 1000;

/** Which customers each directoryRevision of a network touched (null: possibly any). */
export const DirectoryChangeModel = mongoose.model(
  'DirectoryChange',
  new Schema({ _id: { type: String, required: true }, customerIds: { type: [String], default: null } }, { versionKey: false }),
  'directory_changes',
);

export async function recordDirectoryChange(networkId: string, customerIds: readonly string[] | null): Promise<void> {
  const network = await NetworkModel.findOneAndUpdate({ _id: networkId }, { $inc: { directoryRevision: 1 } }, { returnDocument: 'after' }).lean();
  if (!network) return;
  const revision = network.directoryRevision ?? 0;
  await Promise.all([
    DirectoryChangeModel.create({ _id: directoryChangeId(networkId, revision), customerIds: customerIds ? [...new Set(customerIds)] : null }),
    // Only the recent past is kept: a cache further behind reloads everything anyway.
    DirectoryChangeModel.deleteOne({ _id: directoryChangeId(networkId, revision - DIRECTORY_CHANGES_KEPT) }),
  ]);
}

/** The customers a revision touched: their ids, null for "possibly any", undefined when not recorded (any too). */
export async function customersChangedAt(networkId: string, revision: number): Promise<string[] | null | undefined> {
  const change = await DirectoryChangeModel.findById(directoryChangeId(networkId, revision)).lean();
  return change ? (change.customerIds ?? null) : undefined;
}
