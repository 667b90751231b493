import { rawDatabase } from '../../store';

/**
 * The database's own account of a find: FerretDB's pushdown flags (whether filter, sort and limit
 * reach SQLite, or every document is decoded and sorted in FerretDB), or MongoDB's winning plan.
 */
export async function queryPlan(collection: string, filter: Record<string, unknown>, sort: Record<string, number>, limit = 21): Promise<string> {
  const db = rawDatabase();
  const explained = (await db.command({ explain: { find: collection, filter, sort, limit } }).catch((err: Error) => ({ error: err.message }))) as Record<string, any>;
  const pushdown = Object.entries(explained).filter(([k]) => /pushdown/i.test(k));
  if (pushdown.length) return pushdown.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  const stages: string[] = [];
  for (let stage = explained.queryPlanner?.winningPlan; stage; stage = stage.inputStage) stages.push(stage.stage + (stage.indexName ? `(${stage.indexName})` : ''));
  return stages.length ? stages.join(' <- ') : JSON.stringify(explained).slice(0, 200);
}
