import type { Redis } from 'ioredis';
import type { Reports } from '../../appservice';
import type { SynapseAdminApi } from '../synapseAdminApi';

/** Where the import got to in Synapse's event reports (an offset); losing it only re-reads reports, which are idempotent. */
const CURSOR_KEY = 'coworking-chat:matrix-event-reports:next';
/** Reports read per call, so a report queue request stays short. */
const MAX_PER_CALL = 500;

/**
 * Brings the reports Matrix clients made (Synapse stores them; admin API `event_reports`) into the
 * report queue, from where the last call stopped. Run when an administrator reads the queue, so the
 * queue is current whenever someone looks at it; reports outside our conversations are skipped.
 */
export async function importMatrixReports(ctx: { redis: Redis; synapseAdmin: SynapseAdminApi; reports: Reports }): Promise<number> {
  if (!ctx.synapseAdmin.configured) return 0;
  let from = Number(await ctx.redis.get(CURSOR_KEY)) || 0;
  let imported = 0;
  for (let read = 0; read < MAX_PER_CALL; ) {
    const page = await ctx.synapseAdmin.eventReports(from);
    for (const report of page.reports) if (await ctx.reports.importMatrixReport(report)) imported++;
    read += page.reports.length;
    from += page.reports.length;
    await ctx.redis.set(CURSOR_KEY, String(from));
    if (page.next === null || page.reports.length === 0) break;
  }
  return imported;
}
