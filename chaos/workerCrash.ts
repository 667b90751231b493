import type { BenchStack } from '../bench/support/benchStack';
import { createNetwork, runId } from '../bench/support/networkFixture';
import type { ServiceProcess } from '../bench/support/serviceProcess';
import { checkImport, importRows, postImport, waitForProgress } from './importCheck';
import type { ScenarioResult } from './scenarioResult';

const CUSTOMERS = 1000;

/**
 * R2: the provisioning worker (its own process) is SIGKILLed during a 1,000-customer import, with
 * batches in flight, and restarted; the import completes and every customer is provisioned exactly
 * once. (One kill, as in the issue: a batch caught by two crashes is failed on purpose by
 * maxStalledCount, and reported for an operator's retry.)
 */
export async function workerCrash(b: BenchStack, worker: ServiceProcess): Promise<ScenarioResult> {
  const net = await createNetwork(b);
  const rows = importRows(runId('r2'), CUSTOMERS);
  const jobId = await postImport(b, net, rows);
  const progressAtKill: number[] = [];
  for (const percent of [25]) {
    const job = await waitForProgress(b, net, jobId, percent);
    if (job.state === 'completed') break;
    progressAtKill.push(job.progress);
    await worker.kill();
    await new Promise((r) => setTimeout(r, 500));
    await worker.start();
  }
  const outcome = await checkImport(b, net, jobId, rows);
  const problems = [...outcome.problems];
  if (progressAtKill.length === 0) problems.push('the import finished before the worker could be killed: nothing was tested');
  return {
    id: 'R2',
    title: 'worker SIGKILLed during a 1,000-customer import',
    counts: {
      rows: CUSTOMERS,
      kills: progressAtKill.length,
      killedAtProgress: progressAtKill.join('/') || '-',
      job: outcome.state,
      customers: outcome.customers,
      provisioned: outcome.provisioned,
      namesOnSynapse: outcome.namesOnSynapse,
      changedTwice: outcome.versionsBumped,
    },
    problems,
  };
}
