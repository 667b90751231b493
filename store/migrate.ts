import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import mongoose from 'mongoose';
import { MIGRATIONS, type Migration } from './migrations';
import { SchemaMigrationModel } from './schemaMigrations';

const LOCK_ID = '~lock';

export interface MigrationState {
  id: string;
  name: string;
  appliedAt?: Date;
}

/** Which migrations are applied (with when) and which are pending, in order. */
export async function migrationStatus(migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationState[]> {
  const applied = await appliedMigrations(migrations);
  return migrations.map((m) => ({ id: m.id, name: m.name, appliedAt: applied.get(m.id) }));
}

/**
 * Applies the pending migrations in order, one process at a time: every process calls this at
 * start (bin/server.ts) and `chatctl migrate` does too; the first takes the lease in
 * schema_migrations, the others wait for it and then find nothing left to do. A lease whose holder
 * died expires after `lockSeconds`. Returns the ids applied by this call.
 */
export async function runMigrations(
  opts: { migrations?: readonly Migration[]; lockSeconds?: number; waitMs?: number; onApplied?: (m: Migration, ms: number) => void } = {},
): Promise<string[]> {
  const migrations = opts.migrations ?? MIGRATIONS;
  const pendingNow = async () => {
    const applied = await appliedMigrations(migrations);
    return migrations.filter((m) => !applied.has(m.id));
  };
  if ((await pendingNow()).length === 0) return [];
  const holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  await acquireLease(holder, opts.lockSeconds ?? 300, opts.waitMs ?? 120000);
  const done: string[] = [];
  try {
    const db = mongoose.connection.db;
    if (!db) throw new Error('not connected');
    for (const m of await pendingNow()) {
      const started = Date.now();
      await m.up(db);
      const durationMs = Date.now() - started;
      await SchemaMigrationModel.updateOne({ _id: m.id }, { $set: { name: m.name, appliedAt: new Date(), durationMs } }, { upsert: true });
      done.push(m.id);
      opts.onApplied?.(m, durationMs);
    }
  } finally {
    await SchemaMigrationModel.deleteOne({ _id: LOCK_ID, holder }).catch(() => undefined);
  }
  return done;
}

async function appliedMigrations(migrations: readonly Migration[]): Promise<Map<string, Date>> {
  // One lookup by _id each (FerretDB scans for $in); the list is short.
  const docs = await Promise.all(migrations.map((m) => SchemaMigrationModel.findById(m.id).lean()));
  const applied = new Map<string, Date>();
  for (const d of docs) if (d?.appliedAt) applied.set(String(d._id), d.appliedAt);
  return applied;
}

/** The lease: taken when absent or expired; a holder still in time makes the upsert collide (11000). */
async function acquireLease(holder: string, lockSeconds: number, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const now = new Date();
    try {
      await SchemaMigrationModel.updateOne(
        { _id: LOCK_ID, lockedUntil: { $lt: now } },
        { $set: { holder, lockedUntil: new Date(now.getTime() + lockSeconds * 1000) } },
        { upsert: true },
      );
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    if (Date.now() > deadline) throw new Error(`data migrations: another process holds the migration lease (schema_migrations "${LOCK_ID}") for more than ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
