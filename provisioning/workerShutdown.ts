import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { atMost } from '../runtime';

/**
 * Closes a BullMQ worker without hanging when Redis is gone: in-flight jobs get `graceMs` to
 * finish; after that the worker is force-closed and its jobs, still locked in Redis, are picked up
 * again by another worker once the lock expires.
 */
export async function closeWorker(worker: Worker, connection: Redis, graceMs = 10000): Promise<void> {
  let closed = false;
  // With Redis unreachable there is nothing to hand back gracefully: close at once.
  await atMost(worker.close().then(() => (closed = true)), connection.status === 'ready' ? graceMs : 0);
  if (!closed) {
    worker.disconnect().catch(() => undefined);
    await atMost(worker.close(true), 1000);
  }
}
