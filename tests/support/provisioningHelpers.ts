import { join } from 'node:path';
import type { Config } from '../../runtime/config';
import { createRootLogger } from '../../runtime/logger';
import { SynapseAdminApi } from '../../provisioning/synapseAdminApi';
import type { JobView } from '../../provisioning/jobStatus';
import { callApi } from './harness';

/**
 * Settings for provisioning tests against the shared test stack: Synapse admin access through the
 * stack's registration shared secret, and limits that stay out of the way of bulk work.
 */
export function provisioningEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SYNAPSE_REGISTRATION_SHARED_SECRET_PATH: join(process.env.TEST_DATA_DIR!, 'synapse', 'registration_shared_secret'),
    RATE_LIMIT_REQUESTS: '1000000',
    SYNAPSE_MAX_REQUESTS_PER_SECOND: '100000',
    ...extra,
  };
}

export function synapseAdminFor(config: Config): SynapseAdminApi {
  return new SynapseAdminApi(config.synapse.url, config.synapseAdmin, createRootLogger('warn', 'test'));
}

/** Polls GET /v1/jobs/:id until the job is completed or failed (bounded by timeoutMs). */
export async function waitForJob(
  baseUrl: string,
  token: string,
  jobId: string,
  opts: { timeoutMs?: number; onProgress?: (job: JobView) => void } = {},
): Promise<JobView> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60000);
  for (;;) {
    const res = await callApi<JobView>(baseUrl, 'GET', `/v1/jobs/${encodeURIComponent(jobId)}`, token).catch(() => null);
    if (res?.status === 200) {
      opts.onProgress?.(res.body);
      if (res.body.state === 'completed' || res.body.state === 'failed') return res.body;
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish in time; last: ${JSON.stringify(res?.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function customerRows(count: number, prefix = 'c'): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => ({
    customerId: `${prefix}${i}`,
    kind: i % 3 === 0 ? 'nonmember' : 'member',
    displayName: `Customer ${prefix}${i}`,
  }));
}
