import { virtualUserId } from '../appservice/matrix/virtualUsers';
import { eventually, inLanes, type BenchStack } from '../bench/support/benchStack';
import type { BenchNetwork } from '../bench/support/networkFixture';
import { customerDocId, CustomerModel } from '../store';

export interface ImportOutcome {
  jobId: string;
  state: string;
  summary: Record<string, number>;
  customers: number;
  provisioned: number;
  versionsBumped: number;
  namesOnSynapse: number;
  problems: string[];
}

export function importRows(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    customerId: `${prefix}-${i}`,
    kind: i % 3 === 0 ? 'nonmember' : 'member',
    displayName: `${prefix} customer ${i}`,
    locationIds: ['loc-1'],
  }));
}

export async function postImport(b: BenchStack, net: BenchNetwork, rows: unknown[]): Promise<string> {
  const accepted = await b.ok('POST', `/v1/networks/${net.net}/customers:import`, net.service, { customers: rows });
  return accepted.jobId;
}

/** Polls the job through the API (tolerating 503 while a dependency restarts) until progress passes `percent`. */
export async function waitForProgress(b: BenchStack, net: BenchNetwork, jobId: string, percent: number, timeoutMs = 300000) {
  return eventually(
    `job ${jobId} past ${percent}%`,
    async () => {
      const res = await b.api('GET', `/v1/jobs/${encodeURIComponent(jobId)}`, net.service).catch(() => null);
      return res?.status === 200 && (res.body.progress >= percent || res.body.state === 'completed' || res.body.state === 'failed') ? res.body : null;
    },
    timeoutMs,
    100,
  );
}

/**
 * After an import of `rows`: the job completed, every customer exists once in MongoDB, was
 * provisioned once (version still 1, provisionedVersion 1) and has their display name on Synapse.
 */
export async function checkImport(b: BenchStack, net: BenchNetwork, jobId: string, rows: Array<{ customerId: string; displayName: string }>, timeoutMs = 300000): Promise<ImportOutcome> {
  const problems: string[] = [];
  const job = await waitForProgress(b, net, jobId, 101, timeoutMs).catch((err: Error) => {
    problems.push(err.message);
    return { state: 'unfinished', result: {} };
  });
  if (job.state !== 'completed') problems.push(`job state ${job.state}`);
  const summary = (job.result ?? {}) as Record<string, number>;
  const ids = rows.map((r) => r.customerId);
  // One lookup by `_id` each (16 at a time): FerretDB decodes the whole collection for an `$in`.
  const found: Array<{ customerId: string; version?: number | null; provisionedVersion?: number | null } | null> = [];
  await inLanes(ids, 16, async (id, i) => {
    found[i] = await CustomerModel.findById(customerDocId(net.net, id)).select({ customerId: 1, version: 1, provisionedVersion: 1 }).lean();
  });
  const docs = found.filter((d) => d !== null && d !== undefined);
  const customers = docs.length;
  const provisioned = docs.filter((d) => (d.provisionedVersion ?? 0) >= 1).length;
  const versionsBumped = docs.filter((d) => (d.version ?? 1) !== 1).length;
  if (customers !== rows.length) problems.push(`${customers} customer records for ${rows.length} rows`);
  if (provisioned !== rows.length) problems.push(`${rows.length - provisioned} customers not provisioned`);
  if (versionsBumped) problems.push(`${versionsBumped} customers changed more than once`);
  let namesOnSynapse = 0;
  await inLanes(rows, 16, async (row) => {
    const profile = await b.matrix.getProfile(virtualUserId({ kind: 'customer', networkId: net.net, id: row.customerId }, b.domain));
    if (profile?.displayname === row.displayName) namesOnSynapse++;
  });
  if (namesOnSynapse !== rows.length) problems.push(`${rows.length - namesOnSynapse} users lack their display name on Synapse`);
  if (summary.failed) problems.push(`job reports ${summary.failed} failed rows`);
  return { jobId, state: job.state, summary, customers, provisioned, versionsBumped, namesOnSynapse, problems };
}
