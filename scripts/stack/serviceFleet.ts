import { join } from 'node:path';
import { ServiceProcess } from '../../bench/support/serviceProcess';
import { waitFor } from './childProcess';
import { SCALE_PROVISIONING_WORKERS, type LocalStack } from './localStack';

export interface ServiceFleet {
  /** The address clients use: nginx in front of the API processes. */
  url: string;
  processes: ServiceProcess[];
  stop(): Promise<void>;
}

/**
 * The scale profile's services, each its own `bin/server.ts <role>` process: the appservice
 * listener (the registration's url), one portal API process per port behind the stack's nginx,
 * and SCALE_PROVISIONING_WORKERS provisioning workers. Returns once nginx passes requests on.
 */
export async function startServiceFleet(stack: LocalStack, env: Record<string, string>): Promise<ServiceFleet> {
  const front = stack.portalApi;
  if (!front) throw new Error('startServiceFleet needs the scale profile (STACK_PROFILE=scale)');
  const log = (name: string) => join(stack.dataDir, `${name}.log`);
  const processes = [
    new ServiceProcess('appservice', env, log('appservice')),
    ...front.backendPorts.map((port, i) => new ServiceProcess('portal-api', { ...env, PORTAL_API_PORT: String(port) }, log(`portal-api-${i + 1}`))),
    ...Array.from({ length: SCALE_PROVISIONING_WORKERS }, (_, i) => new ServiceProcess('worker', env, log(`worker-${i + 1}`))),
  ];
  const stop = async () => {
    // API processes first (no new work), then the workers, then the appservice listener.
    for (const p of [...processes].reverse()) await p.stop().catch(() => undefined);
  };
  try {
    // The appservice first: the API processes and workers build on a reachable appservice.
    await processes[0]!.start();
    await Promise.all(processes.slice(1).map((p) => p.start()));
    await waitUntilServing(front.url);
    return { url: front.url, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Readiness of the portal API behind the load balancer: its readiness probe answers 200 through
 * nginx twice in a row (nginx takes turns over the API processes).
 */
export async function waitUntilServing(url: string, timeoutMs = 60000): Promise<void> {
  const ready = async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
  await waitFor(`the portal API at ${url}`, async () => (await ready()) && (await ready()), timeoutMs, () => '');
}
