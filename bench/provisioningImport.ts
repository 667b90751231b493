import { randomUUID } from 'node:crypto';
import { virtualUserId, virtualUserLocalpart } from '../appservice/matrix/virtualUsers';
import { eventually, inLanes, type BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork, runId } from './support/networkFixture';
import type { BenchScale } from './support/scale';
import type { ServiceProcess } from './support/serviceProcess';
import { CustomerModel } from '../store';

const STALL_MS = 180000;

/**
 * B3 provisioning: customers imported through POST /v1/networks/:nid/customers:import (registered
 * on Synapse, display names set) per second, against a bare loop registering users and setting
 * their names straight on Synapse at the worker's concurrency. Halves run in the order
 * bare, import, import, bare, so drift on a shared machine hits both alike. The worker runs as its
 * own process (freshly started), and its peak resident memory (VmHWM) is reported.
 */
export async function provisioningImport(b: BenchStack, scale: BenchScale, worker: ServiceProcess): Promise<BenchResult[]> {
  const n = scale.b3Customers;
  const half = Math.floor(n / 2);
  const concurrency = b.config.provisioning.concurrency;
  await worker.stop();
  await worker.start();
  const rssAtStart = worker.rssMiB();
  const net = await createNetwork(b);
  let sampledPeak = 0;
  const sampler = setInterval(() => {
    if (worker.running) sampledPeak = Math.max(sampledPeak, worker.rssMiB());
  }, 250);

  let bareSeconds = 0;
  let importSeconds = 0;
  let bareDone = 0;
  const bare = async (part: number, count: number) => {
    const prefix = runId(`bare${part}`);
    const start = Date.now();
    await inLanes(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
      const ref = { kind: 'customer' as const, networkId: net.net, id: `${prefix}-${i}` };
      if (!(await b.matrix.registerVirtualUser(virtualUserLocalpart(ref)))) throw new Error('bare loop: user already existed');
      await b.matrix.setDisplayName(virtualUserId(ref, b.domain), `Bare Customer ${i}`);
    });
    bareSeconds += (Date.now() - start) / 1000;
    bareDone += count;
  };
  let imported = 0;
  const shortfalls: string[] = [];
  const viaImport = async (part: number, count: number) => {
    const prefix = `imp${part}-${randomUUID().slice(0, 8)}`;
    const rows = Array.from({ length: count }, (_, i) => ({
      customerId: `${prefix}-${i}`,
      kind: i % 3 === 0 ? 'nonmember' : 'member',
      displayName: `Imported Customer ${part}-${i}`,
      locationIds: ['loc-1'],
    }));
    const start = Date.now();
    const accepted = await b.ok('POST', `/v1/networks/${net.net}/customers:import`, net.service, { customers: rows });
    // Bounded by progress: an import that moves no further for STALL_MS is reported as stuck.
    let lastProgress = -1;
    let lastChange = Date.now();
    const job = await eventually(
      `import job ${accepted.jobId}`,
      async () => {
        const res = await b.api('GET', `/v1/jobs/${encodeURIComponent(accepted.jobId)}`, net.service);
        if (res.status === 200 && res.body.progress !== lastProgress) {
          lastProgress = res.body.progress;
          lastChange = Date.now();
        }
        if (Date.now() - lastChange > STALL_MS) throw new Error(`import stuck at ${lastProgress}% for ${STALL_MS / 1000} s (state ${res.body?.state})`);
        return res.status === 200 && (res.body.state === 'completed' || res.body.state === 'failed') ? res.body : null;
      },
      3600000,
      200,
    );
    importSeconds += (Date.now() - start) / 1000;
    if (job.state !== 'completed') throw new Error(`import job ${job.state}: ${JSON.stringify(job).slice(0, 500)}`);
    const provisioned = await CustomerModel.countDocuments({ networkId: net.net, customerId: { $regex: `^${prefix}-` }, provisionedVersion: { $gte: 1 } });
    // Only provisioned customers count; rows the job gave up on are reported with its own reasons.
    imported += provisioned;
    if (provisioned !== count) {
      const reasons = [...new Set((job.failures ?? []).map((f: { reason: string }) => f.reason))].slice(0, 3);
      shortfalls.push(`${count - provisioned} of ${count} rows not provisioned (job summary ${JSON.stringify(job.result)}; reasons: ${reasons.join(' / ') || 'none given'})`);
    }
  };
  try {
    await bare(1, half);
    await viaImport(1, half);
    await viaImport(2, n - half);
    await bare(2, n - half);
  } finally {
    clearInterval(sampler);
  }
  const peak = worker.peakRssMiB();
  const importRate = imported / importSeconds;
  const bareRate = bareDone / bareSeconds;
  return [
    result({
      id: 'B3',
      metric: `import ${n} customers (bare loop at ${concurrency} = worker concurrency)`,
      unit: 'customers/s',
      value: importRate,
      baseline: bareRate,
      target: 0.7,
      targetOn: 'ratio',
      better: 'higher',
      note: `two halves each, order bare/import/import/bare; import time = POST until GET /v1/jobs/:id says completed; only provisioned customers are counted; SYNAPSE_MAX_REQUESTS_PER_SECOND=${b.config.provisioning.maxRequestsPerSecond}${shortfalls.length ? `; IMPORT SHORTFALL: ${shortfalls.join('; ')}` : ''}`,
    }),
    result({
      id: 'B3',
      metric: 'worker peak memory (VmHWM)',
      unit: 'MiB',
      value: peak,
      baseline: null,
      target: null,
      targetOn: 'value',
      better: 'lower',
      note: `worker process RSS ${rssAtStart.toFixed(0)} MiB after start; highest 250 ms sample during the run ${sampledPeak.toFixed(0)} MiB`,
    }),
  ];
}
