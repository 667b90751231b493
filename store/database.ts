import mongoose from 'mongoose';
import type { Db } from 'mongodb';
import { ConfigError } from '../runtime';
import { COLLECTIONS } from './collections';

/**
 * One MongoDB connection per process, shared by the components running in it (reference-counted,
 * so the all-in-one process and tests can start and stop components independently).
 */
let users = 0;
let connectedUri: string | null = null;

export async function connectDatabase(uri: string): Promise<void> {
  users++;
  if (users > 1) {
    if (connectedUri !== uri) {
      users--;
      throw new Error(`this process is already connected to ${redactUri(connectedUri ?? '')}; one MongoDB per process`);
    }
    await mongoose.connection.asPromise();
    return;
  }
  connectedUri = uri;
  try {
    // No buffering: with MongoDB down a request fails fast (503) instead of hanging.
    mongoose.set('bufferCommands', false);
    await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, bufferCommands: false, autoIndex: false });
    // Explicit and idempotent, on every connect: every collection's indexes exist before use.
    await Promise.all(COLLECTIONS.map((model) => model.createIndexes()));
  } catch (err) {
    users--;
    await mongoose.disconnect().catch(() => undefined);
    throw new ConfigError('MONGODB_URI', `cannot connect to ${redactUri(uri)}: ${(err as Error).message}`);
  }
}

export async function disconnectDatabase(): Promise<void> {
  if (users === 0) return;
  users--;
  if (users === 0) await mongoose.disconnect();
}

/** Whether this process's connection is up now (readiness: the driver's state, no round trip). */
export function databaseConnected(): boolean {
  return mongoose.connection.readyState === 1;
}

export async function pingDatabase(): Promise<void> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('not connected');
  await db.admin().ping();
}

export function isDatabaseError(err: unknown): boolean {
  const name = (err as Error | undefined)?.name ?? '';
  return /^Mongo(Server|Network|Topology|NotConnected)|MongooseServerSelectionError|MongoServerSelectionError/.test(name);
}

/** The URI without its password, for logs and error messages. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

/**
 * The driver's database handle, for what compares with the store or checks it from outside: the
 * benchmarks' direct baselines and the chaos suite's snapshots. Services use the collections.
 */
export function rawDatabase(): Db {
  const db = mongoose.connection.db;
  if (!db) throw new Error('not connected');
  return db;
}

/** Calls `listener` with every operation this process sends (benchmarks count them); returns the undo. */
export function onDatabaseOperation(listener: (collection: string, method: string) => void): () => void {
  mongoose.set('debug', listener);
  return () => mongoose.set('debug', false);
}
