import type { Worker } from 'bullmq';
import { atMost } from '../appservice/lifecycle';

/**
 * Closes a BullMQ worker without hanging when Redis is gone: in-flight jobs get `graceMs` to
 * finish; after that the worker is force-closed and its jobs, still locked in Redis, are picked up
 * again by another worker once the lock expires.
 */
export async function closeWorker(worker: Worker, graceMs = 10000): Promise<void> {
  let closed = false;
  await atMost(worker.close().then(() => (closed = true)), graceMs);
  if (!closed) {
    worker.disconnect().catch(() => undefined);
    await atMost(worker.close(true), 1000);
  }
}
