import { randomUUID } from 'node:crypto';
import { MatrixApi } from '../appservice/matrix/matrixApi';
import { encodeIdPart, virtualUserId, virtualUserLocalpart } from '../appservice/matrix/virtualUsers';
import { eventually, inLanes, type BenchStack } from './support/benchStack';
import { result, type BenchResult } from './support/benchResult';
import { createNetwork, runId } from './support/networkFixture';
import { unfinishedJobs } from './support/queueState';
import type { BenchScale } from './support/scale';
import type { ServiceProcess } from './support/serviceProcess';
import { SynapseCallMeter, type CallConcurrency } from './support/synapseCallMeter';
import { CustomerModel } from '../store';

const STALL_MS = 180000;

/**
 * B3 provisioning: customers imported through POST /v1/networks/:nid/customers:import (registered
 * on Synapse, display names set) per second, against a bare loop doing the same two Synapse calls
 * per customer (register, display name) at the same concurrency.
 *
 * Same concurrency, measured: both sides reach Synapse through one pass-through proxy that counts
 * the calls naming this network's users in flight. A worker runs PROVISIONING_CONCURRENCY batch
 * jobs, each with several customers in flight, so its Synapse concurrency is not its job
 * concurrency: the bare loop runs with as many lanes as the first import half had calls in flight
 * at its peak, and the run is refused as not like for like when either side then differs from
 * that. For comparison with earlier runs, a bare loop at PROVISIONING_CONCURRENCY lanes is reported
 * too when that differs.
 *
 * Halves run in the order import, bare, bare, import, so drift on a shared machine hits both alike;
 * before each phase the queue is idle (an import's follow-up space placement is not left running
 * into the next phase). The worker runs as its own process (freshly started, Synapse through the
 * proxy), and its peak resident memory (VmHWM) is reported.
 */
export async function provisioningImport(b: BenchStack, scale: BenchScale, benchWorker: ServiceProcess): Promise<BenchResult[]> {
  const n = scale.b3Customers;
  const half = Math.floor(n / 2);
  const jobConcurrency = b.config.provisioning.concurrency;
  const net = await createNetwork(b);
  const marker = `_${encodeIdPart(net.net)}_`;
  const meter = new SynapseCallMeter(b.config.synapse.url, (path, body) => (path.includes('/register') || path.includes('/profile/')) && (path.includes(marker) || body.includes(marker)));
  await meter.start();
  const bareApi = new MatrixApi(meter.url, b.registration.asToken);
  await benchWorker.stop();
  const worker = b.child('worker', { SYNAPSE_URL: meter.url });
  await worker.start();
  const rssAtStart = worker.rssMiB();
  let sampledPeak = 0;
  const sampler = setInterval(() => {
    if (worker.running) sampledPeak = Math.max(sampledPeak, worker.rssMiB());
  }, 250);

  const idle = () => eventually('the provisioning queue to be idle', async () => (await unfinishedJobs(b)) === 0, 600000, 100);
  const bareRuns: Record<number, { done: number; seconds: number; concurrency: CallConcurrency[] }> = {};
  const bare = async (part: number, count: number, lanes: number) => {
    await idle();
    const prefix = runId(`bare${part}`);
    meter.begin();
    const start = Date.now();
    await inLanes(Array.from({ length: count }, (_, i) => i), lanes, async (i) => {
      const ref = { kind: 'customer' as const, networkId: net.net, id: `${prefix}-${i}` };
      if (!(await bareApi.registerVirtualUser(virtualUserLocalpart(ref)))) throw new Error('bare loop: user already existed');
      await bareApi.setDisplayName(virtualUserId(ref, b.domain), `Bare Customer ${i}`);
    });
    const run = (bareRuns[lanes] ??= { done: 0, seconds: 0, concurrency: [] });
    run.seconds += (Date.now() - start) / 1000;
    run.done += count;
    run.concurrency.push(meter.end());
  };
  let imported = 0;
  let importSeconds = 0;
  const importConcurrency: CallConcurrency[] = [];
  const shortfalls: string[] = [];
  const viaImport = async (part: number, count: number) => {
    await idle();
    const prefix = `imp${part}-${randomUUID().slice(0, 8)}`;
    const rows = Array.from({ length: count }, (_, i) => ({
      customerId: `${prefix}-${i}`,
      kind: i % 3 === 0 ? 'nonmember' : 'member',
      displayName: `Imported Customer ${part}-${i}`,
      locationIds: ['loc-1'],
    }));
    meter.begin();
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
    importConcurrency.push(meter.end());
    if (job.state !== 'completed') throw new Error(`import job ${job.state}: ${JSON.stringify(job).slice(0, 500)}`);
    const provisioned = await CustomerModel.countDocuments({ networkId: net.net, customerId: { $regex: `^${prefix}-` }, provisionedVersion: { $gte: 1 } });
    // Only provisioned customers count; rows the job gave up on are reported with its own reasons.
    imported += provisioned;
    if (provisioned !== count) {
      const reasons = [...new Set((job.failures ?? []).map((f: { reason: string }) => f.reason))].slice(0, 3);
      shortfalls.push(`${count - provisioned} of ${count} rows not provisioned (job summary ${JSON.stringify(job.result)}; reasons: ${reasons.join(' / ') || 'none given'})`);
    }
  };
  let peak = 0;
  let lanes = 0;
  try {
    await viaImport(1, half);
    // The import's own Synapse concurrency, as measured: the bare loop's lanes.
    lanes = importConcurrency[0]!.peak;
    if (lanes < 1) throw new Error('the first import half made no Synapse call the meter saw');
    if (lanes !== jobConcurrency) await bare(0, Math.floor(half / 2), jobConcurrency);
    await bare(1, half, lanes);
    await bare(2, n - half, lanes);
    await viaImport(2, n - half);
    if (lanes !== jobConcurrency) await bare(3, n - half - Math.floor(half / 2), jobConcurrency);
    await idle();
    peak = worker.peakRssMiB();
  } finally {
    clearInterval(sampler);
    await worker.stop();
    await meter.stop();
    await benchWorker.start();
  }
  // Like for like, or no figure: every bare phase at the lanes it was given, the second import at
  // the same peak as the first.
  const matched = bareRuns[lanes]!;
  const mismatch = [...importConcurrency.map((c, i) => [`import half ${i + 1}`, c] as const), ...matched.concurrency.map((c, i) => [`bare half ${i + 1}`, c] as const)].filter(
    ([, c]) => c.peak !== lanes,
  );
  if (mismatch.length) {
    throw new Error(`not like for like: ${mismatch.map(([what, c]) => `${what} peaked at ${c.peak} Synapse calls in flight`).join(', ')}, the comparison at ${lanes}`);
  }
  const describe = (cs: CallConcurrency[]) => `peak ${Math.max(...cs.map((c) => c.peak))}, mean ${(cs.reduce((s, c) => s + c.mean, 0) / cs.length).toFixed(1)}`;
  const importRate = imported / importSeconds;
  const bareRate = matched.done / matched.seconds;
  const batches = Math.ceil(half / 100);
  const out = [
    result({
      id: 'B3',
      metric: `import ${n} customers (bare loop at the import's ${lanes} Synapse calls in flight)`,
      unit: 'customers/s',
      value: importRate,
      baseline: bareRate,
      target: 0.7,
      targetOn: 'ratio',
      better: 'higher',
      note: `order import/bare/bare/import (halves of ${half}, ${batches} batch jobs each, ${jobConcurrency} jobs at a time); Synapse calls in flight (register, display name; through the same proxy for both): import ${describe(importConcurrency)}, bare loop ${describe(matched.concurrency)}; import time = POST until GET /v1/jobs/:id says completed; only provisioned customers are counted; SYNAPSE_MAX_REQUESTS_PER_SECOND=${b.config.provisioning.maxRequestsPerSecond}${shortfalls.length ? `; IMPORT SHORTFALL: ${shortfalls.join('; ')}` : ''}`,
    }),
  ];
  const byJobs = bareRuns[jobConcurrency];
  if (byJobs && lanes !== jobConcurrency) {
    out.push(
      result({
        id: 'B3',
        metric: `import ${n} customers (bare loop at ${jobConcurrency} = jobs per worker, the earlier baseline)`,
        unit: 'customers/s',
        value: importRate,
        baseline: byJobs.done / byJobs.seconds,
        target: null,
        targetOn: 'ratio',
        better: 'higher',
        note: `not like for like (the import had ${lanes} Synapse calls in flight); bare loop ${describe(byJobs.concurrency)}, ${byJobs.done} customers, before the first and after the last import`,
      }),
    );
  }
  out.push(
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
  );
  return out;
}
