/**
 * `npm run bench`: starts one local stack (Synapse test profile, FerretDB or MONGODB_URI, Redis;
 * data on /dev/shm), runs the benchmarks B1–B10 against it, writes bench-results.json at the repo
 * root and prints the same as a table. BENCH_SCALE=small for a quick check; BENCH_ONLY=B1,B4 runs a
 * subset. A figure with a baseline is measured side by side with the same work done directly on
 * Synapse or MongoDB in this run (B1, B3, B5: the same calls; B2: what Synapse itself produces, the
 * ratio being spare capacity); B4 has absolute targets only, and checks every answer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appserviceIngest } from './appserviceIngest';
import { customerExport } from './customerExport';
import { historyPage } from './historyPage';
import { inboxAndDirectory } from './inboxAndDirectory';
import { provisioningImport } from './provisioningImport';
import { sendLatency } from './sendLatency';
import { liveDelivery, liveResume } from './liveEvents';
import { liveFanout } from './liveFanout';
import { webClientLoad } from './webClientLoad';
import { BenchStack } from './support/benchStack';
import { formatTable, meetsTarget, type BenchResult } from './support/benchResult';
import { scaleFromEnv } from './support/scale';

async function main(): Promise<void> {
  const scale = scaleFromEnv();
  const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim().toUpperCase())) : null;
  const started = new Date();
  console.error(`bench: scale ${scale.name}; starting the local stack`);
  const b = await BenchStack.start('bench', {
    // The per-caller limit protects a portal from abuse; a benchmark is one caller doing a lot.
    RATE_LIMIT_REQUESTS: '1000000',
    // The workers' Synapse request budget is a throttle of its own; B3 measures the pipeline.
    SYNAPSE_MAX_REQUESTS_PER_SECOND: '100000',
    // B9 opens the web client through its development sign-in.
    WEB_CLIENT_DEV_LOGIN: 'true',
  });
  const results: BenchResult[] = [];
  const failures: string[] = [];
  try {
    await b.startInProcess({ appservice: true, portalApi: true });
    const worker = b.child('worker');
    await worker.start();
    console.error(`bench: ${b.stack.profile} profile, stack ready in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s (data and logs in ${b.dataDir})`);
    const benchmarks: Array<[string, string, () => Promise<BenchResult[]>]> = [
      ['B1', 'send latency', () => sendLatency(b, scale)],
      ['B5', 'history page', () => historyPage(b, scale)],
      ['B6', 'live delivery', () => liveDelivery(b, scale)],
      ['B8', 'live resume', () => liveResume(b, scale)],
      ['B7', 'live fan-out', () => liveFanout(b, scale)],
      ['B3', 'provisioning import', () => provisioningImport(b, scale, worker)],
      ['B2', 'appservice ingest', () => appserviceIngest(b, scale)],
      ['B9', 'web client load', () => webClientLoad(b, scale)],
      ['B10', 'customer export', () => customerExport(b, scale, worker)],
      // Last: its 100,000 seeded customers would otherwise be in every later query's collection.
      ['B4', 'inbox and directory', () => inboxAndDirectory(b, scale)],
    ];
    for (const [id, name, run] of benchmarks) {
      if (only && !only.has(id)) continue;
      const t0 = Date.now();
      console.error(`bench: ${id} ${name}…`);
      try {
        const figures = await run();
        results.push(...figures);
        console.error(`bench: ${id} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      } catch (err) {
        failures.push(`${id} ${name}: ${(err as Error).message}`);
        console.error(`bench: ${id} FAILED after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${(err as Error).stack}`);
      }
    }
  } finally {
    await b.stop();
  }
  const ordered = results.sort((x, y) => x.id.localeCompare(y.id));
  writeFileSync(join(__dirname, '..', 'bench-results.json'), JSON.stringify(ordered, null, 2) + '\n');
  const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
  console.log(`Benchmarks, scale ${scale.name}, ${b.stack.profile} profile, ${started.toISOString()}, ${minutes} min, Node ${process.version}\n`);
  console.log(formatTable(ordered));
  const missed = ordered.filter((r) => meetsTarget(r) === false).map((r) => `${r.id} ${r.metric}`);
  if (missed.length) console.log(`\ntargets missed: ${missed.join('; ')}`);
  if (failures.length) {
    console.log(`\nbenchmarks that could not run:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
