import { CustomerModel } from './models';

/**
 * Each network's name index in memory: its active customers sorted by (searchName, customerId),
 * the order of the Community page and the administrators' customer search. A page is a binary
 * search and a short walk, whatever the network's size.
 *
 * It is never stale: every request reads the network document anyway (chats on?, visibility), and
 * its `directoryRevision` moves after every write to a customer's directory fields (post hooks in
 * models.ts). A request that sees a revision the process has not loaded reloads the network's
 * customers once (concurrent requests share the load). That reload is the price of a change: one
 * read of the network's customers, as the database hands them over.
 */

export interface DirectoryEntry {
  customerId: string;
  kind: 'member' | 'nonmember';
  status: 'active' | 'deactivated';
  displayName: string;
  searchName: string;
  avatarUrl?: string | null;
  locationIds: string[];
  hideNameOnBookings: boolean;
  matrixUserId: string;
}

interface LoadedDirectory {
  revision: number;
  entries: DirectoryEntry[];
}

/** Networks kept in memory; the least recently used beyond it is dropped. */
const MAX_NETWORKS = 32;
const loaded = new Map<string, LoadedDirectory>();
const loading = new Map<string, Promise<LoadedDirectory>>();

/** (searchName, customerId), as the (networkId, searchName, customerId) index orders them. */
export function compareNameKey(a: { searchName: string; customerId: string }, b: { searchName: string; customerId: string }): number {
  if (a.searchName !== b.searchName) return a.searchName < b.searchName ? -1 : 1;
  return a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;
}

/** The network's active customers by name, at `revision` (the network document's directoryRevision). */
export async function directoryOf(networkId: string, revision: number): Promise<readonly DirectoryEntry[]> {
  const hit = loaded.get(networkId);
  if (hit && hit.revision === revision) {
    loaded.delete(networkId);
    loaded.set(networkId, hit);
    return hit.entries;
  }
  const key = `${networkId}\u0000${revision}`;
  let pending = loading.get(key);
  if (!pending) {
    pending = load(networkId, revision).finally(() => loading.delete(key));
    loading.set(key, pending);
  }
  return (await pending).entries;
}

async function load(networkId: string, revision: number): Promise<LoadedDirectory> {
  const docs = await CustomerModel.find({ networkId, status: 'active' })
    .select({ _id: 0, customerId: 1, kind: 1, status: 1, displayName: 1, searchName: 1, avatarUrl: 1, locationIds: 1, hideNameOnBookings: 1, matrixUserId: 1 })
    .lean<DirectoryEntry[]>();
  const entries = docs.map((d) => ({ ...d, locationIds: d.locationIds ?? [], hideNameOnBookings: Boolean(d.hideNameOnBookings) })).sort(compareNameKey);
  const directory = { revision, entries };
  // A slower load of an older revision never replaces a newer one.
  const current = loaded.get(networkId);
  if (!current || current.revision <= revision) {
    loaded.delete(networkId);
    loaded.set(networkId, directory);
    while (loaded.size > MAX_NETWORKS) loaded.delete(loaded.keys().next().value!);
  }
  return directory;
}

/**
 * Entries after the cursor position `(searchName, customerId)` that pass `accept`, at most `limit`,
 * and whether more follow.
 */
export function pageAfter(
  entries: readonly DirectoryEntry[],
  after: { searchName: string; customerId: string } | null,
  limit: number,
  accept: (e: DirectoryEntry) => boolean,
): { items: DirectoryEntry[]; more: boolean } {
  let lo = 0;
  if (after) {
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareNameKey(entries[mid]!, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
  }
  const items: DirectoryEntry[] = [];
  for (let i = lo; i < entries.length; i++) {
    const e = entries[i]!;
    if (!accept(e)) continue;
    if (items.length === limit) return { items, more: true };
    items.push(e);
  }
  return { items, more: false };
}
