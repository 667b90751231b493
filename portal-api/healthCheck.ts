import { randomUUID } from 'node:crypto';
import { pendingTransactionCount, pingDatabase, takePingReceipt } from '../store';
import { createMailTransport } from '../provisioning';
import type { PortalDeps } from './portalDeps';

/** What the health check reads (the CLI builds just these). */
export type HealthDeps = Pick<PortalDeps, 'services' | 'queue' | 'redis'>;

export interface ComponentHealth {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
  /** What else the check learned (the appservice: its backlog; a ping Synapse failed to relay). */
  details?: Record<string, unknown>;
}

const CHECK_TIMEOUT_MS = 3000;

async function check(probe: () => Promise<unknown>): Promise<ComponentHealth> {
  const started = performance.now();
  try {
    const details = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
    ]);
    return {
      status: 'up',
      latencyMs: Math.round(performance.now() - started),
      ...(details && typeof details === 'object' && !Array.isArray(details) ? { details: details as Record<string, unknown> } : {}),
    };
  } catch (err) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error: (err as Error).message.slice(0, 200) };
  }
}

/** Health of every part the product needs; used by the ops route and the CLI. */
export async function checkHealth(deps: HealthDeps) {
  const { matrix } = deps.services;
  // The mail server of notification emails, when there is one: while it is down emails wait and are retried.
  const smtpUrl = deps.services.config.email?.smtpUrl;
  const [synapse, appservice, mongodb, redis, queues, smtp] = await Promise.all([
    check(async () => {
      if (!(await matrix.health())) throw new Error('Synapse /health did not answer OK');
    }),
    check(() => appserviceUp(deps)),
    check(() => pingDatabase()),
    check(() => deps.redis.ping()),
    check(() => deps.queue.queue.getJobCounts('waiting', 'active', 'failed', 'delayed')),
    smtpUrl ? check(() => smtpReachable(smtpUrl)) : null,
  ]);
  const components = { synapse, appservice, mongodb, redis, queues, ...(smtp ? { smtp } : {}) };
  const ok = Object.values(components).every((c) => c.status === 'up');
  return { status: ok ? 'ok' : 'degraded', components };
}

/**
 * Synapse pings the appservice: proves both directions (Synapse -> appservice -> 200). A busy
 * appservice is up: while it works off a backlog Synapse may fail to relay the answer (502
 * "AlreadyCancelled" on Synapse 1.163), so a failed ping whose arrival the listener recorded still
 * counts as up. The backlog is reported either way.
 */
async function appserviceUp(deps: HealthDeps): Promise<Record<string, unknown>> {
  const { matrix, registration } = deps.services;
  const transactionId = `health-${randomUUID()}`;
  const backlog = pendingTransactionCount().catch(() => null);
  try {
    await matrix.pingAppservice(registration.id, transactionId);
    void takePingReceipt(transactionId).catch(() => undefined);
    return { pendingTransactions: await backlog };
  } catch (err) {
    if (!(await takePingReceipt(transactionId).catch(() => false))) throw err;
    return { pendingTransactions: await backlog, pingRelayFailed: (err as Error).message.slice(0, 200) };
  }
}

async function smtpReachable(smtpUrl: string): Promise<void> {
  const transport = createMailTransport(smtpUrl);
  try {
    await transport.verify();
  } finally {
    transport.close();
  }
}
