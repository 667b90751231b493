import { createHash } from 'node:crypto';
import { rawDatabase } from '../store';

/** Count and content hash of each collection (or of the documents a filter selects in each). */
export type Snapshot = Map<string, { count: number; hash: string }>;

/**
 * Caches the service derives from its data and may fill while answering reads: they are not data.
 * The support inbox head (appservice/domain/supportInbox.ts), the record of directory changes
 * (models.ts, read by directoryCache.ts) and the unread counts cached on read markers
 * (readMarkers.ts: the `unreadCache` field, and marker documents that hold nothing else).
 */
const DERIVED_COLLECTIONS = new Set(['support_inbox_heads', 'directory_changes']);
function withoutDerived(collection: string, docs: Record<string, unknown>[]): Record<string, unknown>[] {
  if (collection !== 'read_markers') return docs;
  return docs.filter((d) => d.readAt !== undefined).map(({ unreadCache: _cache, ...rest }) => rest);
}

export async function snapshot(filterFor: (collection: string) => Record<string, unknown> | null = () => ({})): Promise<Snapshot> {
  const db = rawDatabase();
  const out: Snapshot = new Map();
  const names = (await db.listCollections().toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.')).sort();
  for (const name of names) {
    const filter = filterFor(name);
    if (!filter || DERIVED_COLLECTIONS.has(name)) continue;
    const docs = withoutDerived(name, await db.collection(name).find(filter).sort({ _id: 1 }).toArray());
    out.set(name, { count: docs.length, hash: createHash('sha256').update(JSON.stringify(docs)).digest('hex').slice(0, 16) });
  }
  return out;
}

/** Names of collections whose count or content differ (collections that appeared count too). */
export function changedCollections(before: Snapshot, after: Snapshot): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => {
    const a = before.get(n);
    const b = after.get(n);
    return (a?.count ?? 0) !== (b?.count ?? 0) || (a && b && a.hash !== b.hash) || (!a && (b?.count ?? 0) > 0) || (!b && (a?.count ?? 0) > 0);
  }).map((n) => `${n} (${before.get(n)?.count ?? 0}→${after.get(n)?.count ?? 0})`);
}
