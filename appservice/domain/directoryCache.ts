import { LRUCache } from 'lru-cache';
import { CustomerModel, customersChangedAt, DIRECTORY_CHANGES_KEPT, findCustomers } from '../../store';

/**
 * Each network's name index in memory: its active customers sorted by (searchName, customerId),
 * the order of the Community page and the administrators' customer search. A page is a binary
 * search and a short walk, whatever the network's size.
 *
 * It is never stale: every request reads the network document anyway (chats on?, visibility), and
 * its `directoryRevision` moves after every write to a customer's directory fields (the store's
 * customer writes record it, store/directoryChanges.ts), with the customers each revision touched. A request that sees a newer
 * revision catches up by reading those customers by `_id` (concurrent requests share the work);
 * when the record is missing or says "any customer", or the process is far behind, it reloads the
 * network's customers, one read of all of them.
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
/** Beyond this many changed customers a full reload is cheaper than reading them one by one. */
const MAX_CUSTOMERS_TO_CATCH_UP = 2000;
const ENTRY_FIELDS = { _id: 0, customerId: 1, kind: 1, status: 1, displayName: 1, searchName: 1, avatarUrl: 1, locationIds: 1, hideNameOnBookings: 1, matrixUserId: 1 } as const;
const loaded = new LRUCache<string, LoadedDirectory>({ max: MAX_NETWORKS });
const loading = new Map<string, Promise<LoadedDirectory>>();

/** (searchName, customerId), as the (networkId, searchName, customerId) index orders them. */
export function compareNameKey(a: { searchName: string; customerId: string }, b: { searchName: string; customerId: string }): number {
  if (a.searchName !== b.searchName) return a.searchName < b.searchName ? -1 : 1;
  return a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;
}

/** The network's active customers by name, at `revision` (the network document's directoryRevision). */
export async function directoryOf(networkId: string, revision: number): Promise<readonly DirectoryEntry[]> {
  const hit = loaded.get(networkId);
  if (hit && hit.revision === revision) return hit.entries;
  const key = `${networkId}\u0000${revision}`;
  let pending = loading.get(key);
  if (!pending) {
    const from = hit && hit.revision < revision ? hit : null;
    pending = (from ? catchUp(networkId, from, revision) : Promise.resolve(null))
      .then((caughtUp) => caughtUp ?? load(networkId, revision))
      .finally(() => loading.delete(key));
    loading.set(key, pending);
  }
  return (await pending).entries;
}

async function load(networkId: string, revision: number): Promise<LoadedDirectory> {
  const docs = await CustomerModel.find({ networkId, status: 'active' }).select(ENTRY_FIELDS).lean<DirectoryEntry[]>();
  return keep(networkId, { revision, entries: docs.map(toEntry).sort(compareNameKey) });
}

function toEntry(d: DirectoryEntry): DirectoryEntry {
  return {
    customerId: d.customerId,
    kind: d.kind,
    status: d.status,
    displayName: d.displayName,
    searchName: d.searchName,
    avatarUrl: d.avatarUrl,
    locationIds: d.locationIds ?? [],
    hideNameOnBookings: Boolean(d.hideNameOnBookings),
    matrixUserId: d.matrixUserId,
  };
}

/**
 * From `from` to `revision` by the recorded changes: the customers they name are read by `_id`
 * and replace their old entries. Null when the record cannot say (then the caller reloads).
 */
async function catchUp(networkId: string, from: LoadedDirectory, revision: number): Promise<LoadedDirectory | null> {
  if (revision - from.revision > DIRECTORY_CHANGES_KEPT) return null;
  const revisions = Array.from({ length: revision - from.revision }, (_, i) => from.revision + 1 + i);
  const changes = await Promise.all(revisions.map((r) => customersChangedAt(networkId, r)));
  const changed = new Set<string>();
  for (const customerIds of changes) {
    // Not recorded (a writer between its two steps, or crashed there) or "any customer": reload.
    if (!Array.isArray(customerIds)) return null;
    for (const id of customerIds) changed.add(id);
    if (changed.size > MAX_CUSTOMERS_TO_CATCH_UP) return null;
  }
  const fresh = await findCustomers(networkId, [...changed]);
  const added = fresh.filter((d) => d.status === 'active').map((d) => toEntry(d as DirectoryEntry)).sort(compareNameKey);
  const kept = from.entries.filter((e) => !changed.has(e.customerId));
  return keep(networkId, { revision, entries: mergeSorted(kept, added) });
}

function mergeSorted(a: readonly DirectoryEntry[], b: readonly DirectoryEntry[]): DirectoryEntry[] {
  const out: DirectoryEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(compareNameKey(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function keep(networkId: string, directory: LoadedDirectory): LoadedDirectory {
  // A slower load of an older revision never replaces a newer one.
  const current = loaded.get(networkId);
  if (!current || current.revision <= directory.revision) loaded.set(networkId, directory);
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
