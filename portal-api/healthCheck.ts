import { pingDatabase } from '../store';
import type { PortalDeps } from './portalDeps';

export interface ComponentHealth {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 3000;

async function check(probe: () => Promise<unknown>): Promise<ComponentHealth> {
  const started = performance.now();
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error: (err as Error).message.slice(0, 200) };
  }
}

/** Health of every part the product needs; used by the ops route and the CLI. */
export async function checkHealth(deps: PortalDeps) {
  const { matrix, registration } = deps.services;
  const [synapse, appservice, mongodb, redis, queues] = await Promise.all([
    check(async () => {
      if (!(await matrix.health())) throw new Error('Synapse /health did not answer OK');
    }),
    // Synapse pings the appservice: proves both directions (Synapse -> appservice -> 200).
    check(() => matrix.pingAppservice(registration.id, `health-${Date.now()}`)),
    check(() => pingDatabase()),
    check(() => deps.redis.ping()),
    check(() => deps.queue.queue.getJobCounts('waiting', 'active', 'failed', 'delayed')),
  ]);
  const components = { synapse, appservice, mongodb, redis, queues };
  const ok = Object.values(components).every((c) => c.status === 'up');
  return { status: ok ? 'ok' : 'degraded', components };
}
