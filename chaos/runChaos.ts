/**
 * `npm run chaos`: the reliability suite. One local stack (loopback only, data on /dev/shm) with the
 * appservice, the portal API and a provisioning worker each in its own process (so they can be
 * SIGKILLed), then the scenarios R1–R10, one line each. Exits non-zero if any scenario lost or
 * duplicated data, leaked, or could not run. CHAOS_ONLY=R1,R5 runs a subset. Every loop is bounded.
 * STACK_PROFILE=scale runs it on the production-like profile (README › Deploying, "Scale-out"):
 * Synapse workers on PostgreSQL behind nginx, the API processes behind nginx, and a second
 * provisioning worker that keeps running while R2 kills the first.
 */
import { BenchStack } from '../bench/support/benchStack';
import { appserviceCrash } from './appserviceCrash';
import { concurrentProvisioning } from './concurrentProvisioning';
import { containmentAttacks } from './containmentAttacks';
import { emailDigests } from './emailDigests';
import { authorizationMatrix } from './authorizationMatrix';
import { malformedRequests } from './malformedRequests';
import { redisRestart } from './redisRestart';
import { formatScenario, type ScenarioResult } from './scenarioResult';
import { synapseOutage } from './synapseOutage';
import { workerCrash } from './workerCrash';
import { liveFailover } from './liveFailover';
import { SCALE_PROVISIONING_WORKERS } from '../scripts/stack/localStack';

/** The whole suite stops by itself after this long, whatever happens. */
const SUITE_TIMEOUT_MS = 30 * 60 * 1000;

async function main(): Promise<void> {
  const only = process.env.CHAOS_ONLY ? new Set(process.env.CHAOS_ONLY.split(',').map((s) => s.trim().toUpperCase())) : null;
  const started = Date.now();
  const b = await BenchStack.start('chaos', {
    RATE_LIMIT_REQUESTS: '1000000',
    SYNAPSE_MAX_REQUESTS_PER_SECOND: '100000',
    // A killed worker's jobs are taken over after the lock expires: short, so the suite stays short.
    PROVISIONING_LOCK_SECONDS: '5',
    PROVISIONING_STALLED_CHECK_SECONDS: '5',
    // R9: a 10-minute email delay passes in one second.
    EMAIL_DELAY_UNIT_MS: '100',
  });
  const results: ScenarioResult[] = [];
  try {
    const appservice = b.child('appservice');
    const portal = b.child('portal-api');
    const worker = b.child('worker');
    // The scale profile's further provisioning workers (R2 kills `worker`; these keep going).
    const moreWorkers = Array.from({ length: b.stack.profile === 'scale' ? SCALE_PROVISIONING_WORKERS - 1 : 0 }, () => b.child('worker'));
    await Promise.all([appservice.start(), portal.start(), worker.start(), ...moreWorkers.map((w) => w.start())]);
    console.error(`chaos: ${b.stack.profile} profile, stack ready in ${((Date.now() - started) / 1000).toFixed(0)} s (data and logs in ${b.dataDir})`);
    const scenarios: Array<[string, () => Promise<ScenarioResult>]> = [
      ['R5', () => malformedRequests(b, portal)],
      ['R6', () => authorizationMatrix(b)],
      ['R7', () => containmentAttacks(b)],
      ['R10', () => concurrentProvisioning(b)],
      ['R1', () => appserviceCrash(b, appservice)],
      ['R2', () => workerCrash(b, worker)],
      ['R3', () => redisRestart(b)],
      ['R4', () => synapseOutage(b)],
      ['R8', () => liveFailover(b, portal)],
      ['R9', () => emailDigests(b, worker)],
    ];
    for (const [id, run] of scenarios) {
      if (only && !only.has(id)) continue;
      const t0 = Date.now();
      console.error(`chaos: ${id}…`);
      let r: ScenarioResult;
      try {
        r = await run();
      } catch (err) {
        r = { id, title: 'could not run', counts: {}, problems: [(err as Error).stack ?? String(err)] };
      }
      r.counts.seconds = Math.round((Date.now() - t0) / 1000);
      results.push(r);
      console.log(formatScenario(r));
      // Every scenario leaves the services running for the next one.
      for (const proc of [appservice, portal, worker, ...moreWorkers]) if (!proc.running) await proc.start();
    }
  } finally {
    await b.stop();
  }
  const failed = results.filter((r) => r.problems.length > 0);
  console.log(`\nchaos: ${results.length - failed.length}/${results.length} scenarios ok in ${((Date.now() - started) / 60000).toFixed(1)} min (${new Date(started).toISOString()})`);
  if (failed.length) process.exitCode = 1;
}

// A stray rejection inside a scenario must not kill the runner before it stops the stack.
process.on('unhandledRejection', (err) => console.error('chaos: unhandled rejection', err));

const watchdog = setTimeout(() => {
  console.error(`chaos: suite timeout after ${SUITE_TIMEOUT_MS / 60000} min`);
  process.exit(2);
}, SUITE_TIMEOUT_MS);
watchdog.unref();

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
