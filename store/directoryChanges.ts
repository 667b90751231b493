import mongoose, { Schema } from 'mongoose';
import { isDuplicateKey } from './duplicateKeys';
import { directoryChangeId } from './entityIds';
import { NetworkModel, writeNetwork } from './networks';

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

/**
 * A revision is claimed by inserting its change record: the `_id` is unique, and an insert is the
 * one write FerretDB 1.24 makes atomically. Its updates read, modify and write back in separate
 * steps, so two concurrent `$inc`s of `directoryRevision` could return the same revision (the second
 * record was then refused as a duplicate key, the customer write answered 503, and the name index
 * never learned of that change): 40 concurrent increments of one counter ended at 21 there. The
 * network's `directoryRevision` then moves to at least the claimed revision (`$max`, read back until
 * it shows). The writes of one process take turns per network; a real MongoDB needs none of this.
 */
export function recordDirectoryChange(networkId: string, customerIds: readonly string[] | null): Promise<void> {
  const previous = directoryTurns.get(networkId) ?? Promise.resolve();
  const turn = previous.then(() => claimRevision(networkId, customerIds));
  const settled = turn.catch(() => undefined);
  directoryTurns.set(networkId, settled);
  void settled.then(() => {
    if (directoryTurns.get(networkId) === settled) directoryTurns.delete(networkId);
  });
  return turn;
}

const directoryTurns = new Map<string, Promise<unknown>>();
/** Revisions tried past the network's own before giving up (each one another writer claimed). */
const MAX_CLAIM_ATTEMPTS = 100;

async function claimRevision(networkId: string, customerIds: readonly string[] | null): Promise<void> {
  const network = await NetworkModel.findById(networkId).select({ directoryRevision: 1 }).lean();
  if (!network) return;
  const record = customerIds ? [...new Set(customerIds)] : null;
  let revision = (network.directoryRevision ?? 0) + 1;
  for (let attempt = 0; ; attempt++, revision++) {
    try {
      await DirectoryChangeModel.create({ _id: directoryChangeId(networkId, revision), customerIds: record });
      break;
    } catch (err) {
      // Another writer claimed this revision and has not moved the network's yet: the next one.
      if (!isDuplicateKey(err) || attempt >= MAX_CLAIM_ATTEMPTS) throw err;
    }
  }
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    await writeNetwork(networkId, () => NetworkModel.updateOne({ _id: networkId }, { $max: { directoryRevision: revision } }));
    const now = await NetworkModel.findById(networkId).select({ directoryRevision: 1 }).lean();
    if (!now || (now.directoryRevision ?? 0) >= revision) break;
  }
  // Only the recent past is kept: a cache further behind reloads everything anyway.
  await DirectoryChangeModel.deleteOne({ _id: directoryChangeId(networkId, revision - DIRECTORY_CHANGES_KEPT) });
}

/** The customers a revision touched: their ids, null for "possibly any", undefined when not recorded (any too). */
export async function customersChangedAt(networkId: string, revision: number): Promise<string[] | null | undefined> {
  const change = await DirectoryChangeModel.findById(directoryChangeId(networkId, revision)).lean();
  return change ? (change.customerIds ?? null) : undefined;
}
