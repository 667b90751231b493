import type { BenchStack } from '../bench/support/benchStack';
import { createNetwork, runId } from '../bench/support/networkFixture';
import { checkImport, importRows, postImport, waitForProgress } from './importCheck';
import type { ScenarioResult } from './scenarioResult';

const CUSTOMERS = 1000;
const DOWN_MS = 3000;

/** R3: Redis (BullMQ's store) is restarted during a 1,000-customer import; the import completes. */
export async function redisRestart(b: BenchStack): Promise<ScenarioResult> {
  if (b.stack.redis.kind !== 'local') {
    return { id: 'R3', title: 'Redis restarted during an import', counts: {}, problems: ['REDIS_URL points at an external Redis this suite cannot restart'] };
  }
  const net = await createNetwork(b);
  const rows = importRows(runId('r3'), CUSTOMERS);
  const jobId = await postImport(b, net, rows);
  const job = await waitForProgress(b, net, jobId, 20);
  const problems: string[] = [];
  if (job.state === 'completed') problems.push('the import finished before Redis could be restarted: nothing was tested');
  await b.stack.redis.restart(DOWN_MS);
  const outcome = await checkImport(b, net, jobId, rows);
  problems.push(...outcome.problems);
  return {
    id: 'R3',
    title: 'Redis restarted during a 1,000-customer import',
    counts: {
      rows: CUSTOMERS,
      restartedAtProgress: job.progress,
      redisDownMs: DOWN_MS,
      job: outcome.state,
      customers: outcome.customers,
      provisioned: outcome.provisioned,
      namesOnSynapse: outcome.namesOnSynapse,
    },
    problems,
  };
}
