import type { Job, JobType, Queue } from 'bullmq';
import type { ImportFailure } from './commands/customerImportRows';
import { importReport } from './jobs/customerImport';
import type { ProvisioningJob, ProvisioningJobData } from './provisioningQueue';

/**
 * How jobs and queues look from the outside (GET /v1/jobs/:id, GET /v1/ops/queues, chatctl):
 * state, progress 0-100 and failures with their reasons; never the job's raw data.
 */

export interface JobView {
  id: string;
  type: string;
  networkId: string;
  state: string;
  progress: number;
  attemptsMade: number;
  createdAt: string;
  finishedAt: string | null;
  /** Why the job failed (after its last attempt), or why its last attempt failed. */
  failedReason: string | null;
  /** Per-row (import) failures; empty for jobs without rows. */
  failures: ImportFailure[];
  result: unknown;
}

export async function describeJob(fetched: ProvisioningJob, queue: Queue<ProvisioningJobData>): Promise<JobView> {
  const state = await fetched.getState();
  // Finished between the fetch and the state read: read it again for its result and reason.
  const job = (state === 'completed' || state === 'failed') && !fetched.finishedOn ? ((await queue.getJob(fetched.id!)) ?? fetched) : fetched;
  let progress = state === 'completed' ? 100 : typeof job.progress === 'number' ? job.progress : 0;
  let failures: ImportFailure[] = [];
  let result: unknown = job.returnvalue ?? null;
  if (job.data.kind === 'customer-import') {
    const report = await importReport(job, queue);
    progress = state === 'completed' ? 100 : Math.min(report.progress, 99);
    failures = report.failures;
    result = report.summary;
  }
  return {
    id: job.id!,
    type: job.name,
    networkId: job.data.networkId,
    state,
    progress,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    failedReason: job.failedReason || null,
    failures,
    result,
  };
}

export const JOB_STATES: JobType[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

export interface QueueView {
  name: string;
  counts: Record<string, number>;
  /** The most recent failed jobs, newest first. */
  failed: Array<{ id: string; type: string; networkId: string | null; failedReason: string; attemptsMade: number; failedAt: string | null }>;
}

export async function describeQueue(queue: Queue, failedLimit = 50): Promise<QueueView> {
  const [counts, failed] = await Promise.all([queue.getJobCounts(...JOB_STATES), queue.getFailed(0, failedLimit - 1)]);
  return {
    name: queue.name,
    counts,
    failed: failed.filter((j): j is Job => Boolean(j)).map((j) => ({
      id: j.id!,
      type: j.name,
      networkId: typeof j.data?.networkId === 'string' ? j.data.networkId : null,
      failedReason: j.failedReason,
      attemptsMade: j.attemptsMade,
      failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
    })),
  };
}

/** Moves failed jobs back to waiting: all of them, or the given ids. Returns how many. */
export async function retryFailedJobs(queue: Queue, jobIds?: string[]): Promise<number> {
  if (!jobIds) {
    const count = await queue.getFailedCount();
    await queue.retryJobs({ state: 'failed', count: 1000 });
    return count;
  }
  let retried = 0;
  for (const id of jobIds) {
    const job = await queue.getJob(id);
    if (job && (await job.isFailed())) {
      await job.retry('failed');
      retried++;
    }
  }
  return retried;
}
