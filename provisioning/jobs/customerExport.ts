import { botUserId, type MatrixEvent } from '../../appservice';
import { ConversationModel, blocksOf, findCustomer, finishCustomerExport, startCustomerExport, writeExportPart, findCustomerExport } from '../../store';
import type { JobContext } from './jobContext';
import type { ProvisioningJob } from '../provisioningQueue';

/** A part of the export document is written once it holds this much JSON. */
const PART_BYTES = 512 * 1024;
const PAGE = 1000;

/**
 * Exports what a customer sent and the conversations they are in (Safety: a data access request),
 * read from Synapse itself (every conversation room's history, paged, filtered to the customer's
 * events), written as one JSON document in parts (store/customerExports.ts): memory stays at one
 * page of events and one part, whatever the size of the history.
 */
export async function runCustomerExport(ctx: JobContext, job: ProvisioningJob): Promise<{ exportId: string; download: string; messages: number; bytes: number } | { skipped: string }> {
  const data = job.data as Extract<ProvisioningJob['data'], { kind: 'customer-export' }>;
  const { networkId, customerId, exportId } = data;
  const [customer, record] = await Promise.all([findCustomer(networkId, customerId), findCustomerExport(exportId)]);
  if (!customer || !record) return { skipped: 'customer or export no longer exists' };
  await startCustomerExport(record);
  const bot = botUserId(ctx.services.config.matrixDomain);
  const out = new PartWriter(exportId);

  const conversations = await ConversationModel.find({ networkId, customerIds: customerId }).select({ _id: 1, kind: 1, customerIds: 1, roomId: 1, createdAt: 1 }).lean();
  const others = await Promise.all(
    conversations.flatMap((c) => c.customerIds.filter((id) => id !== customerId)).map(async (id) => [id, (await findCustomer(networkId, id))?.displayName ?? 'Former customer'] as const),
  );
  const names = new Map(others);
  await out.write(
    `{"exportedAt":${JSON.stringify(new Date().toISOString())},"networkId":${JSON.stringify(networkId)},"customer":${JSON.stringify({
      customerId,
      kind: customer.kind,
      displayName: customer.displayName,
      status: customer.status,
      locationIds: customer.locationIds,
      hideNameOnBookings: customer.hideNameOnBookings,
    })},"blocks":${JSON.stringify((await blocksOf(networkId, customerId)).map((b) => ({ customerId: b.blockedId, blockedAt: b.createdAt })))},"conversations":${JSON.stringify(
      conversations.map((c) => ({
        id: c._id,
        kind: c.kind,
        // As the customer sees them: the other customer's name, or the support team.
        with: c.kind === 'support' ? [{ support: true, displayName: 'Support team' }] : c.customerIds.filter((id) => id !== customerId).map((id) => ({ customerId: id, displayName: names.get(id) })),
      })),
    )},"messages":[`,
  );
  let messages = 0;
  for (const [i, c] of conversations.entries()) {
    if (!c.roomId) continue;
    let from: string | undefined;
    for (;;) {
      const page = await ctx.services.matrix.messages(c.roomId, bot, { dir: 'f', limit: PAGE, from, filter: { senders: [customer.matrixUserId], types: ['m.room.message'] } });
      for (const event of page.chunk) {
        await out.write(`${messages === 0 ? '' : ','}${JSON.stringify(exportedMessage(c._id, event))}`);
        messages++;
      }
      if (!page.end || page.chunk.length === 0) break;
      from = page.end;
    }
    await job.updateProgress(Math.round(((i + 1) * 100) / conversations.length)).catch(() => undefined);
  }
  await out.write(']}');
  const totals = await out.close();
  await finishCustomerExport(exportId, { ...totals, messages });
  return { exportId, download: `/v1/exports/${exportId}`, messages, bytes: totals.bytes };
}

function exportedMessage(chatId: string, e: MatrixEvent) {
  const c = (e.content ?? {}) as Record<string, any>;
  const relation = c['m.relates_to'] as { rel_type?: string; event_id?: string; 'm.in_reply_to'?: { event_id?: string } } | undefined;
  const redacted = Boolean(e.unsigned?.redacted_because);
  return {
    id: e.event_id,
    chatId,
    sentAt: new Date(e.origin_server_ts).toISOString(),
    ...(redacted ? { unsent: true } : { type: c.msgtype ?? null, body: typeof c.body === 'string' ? c.body : null }),
    ...(typeof c.url === 'string' ? { attachment: { name: c.body ?? null, mediaId: c.url } } : {}),
    ...(relation?.rel_type === 'm.replace' ? { editOf: relation.event_id, body: typeof c['m.new_content']?.body === 'string' ? c['m.new_content'].body : null } : {}),
    ...(relation?.['m.in_reply_to']?.event_id ? { replyTo: relation['m.in_reply_to'].event_id } : {}),
  };
}

class PartWriter {
  private buffer = '';
  private parts = 0;
  private bytes = 0;

  constructor(private readonly exportId: string) {}

  async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= PART_BYTES) await this.flush();
  }

  async close(): Promise<{ parts: number; bytes: number }> {
    await this.flush();
    return { parts: this.parts, bytes: this.bytes };
  }

  private async flush(): Promise<void> {
    if (!this.buffer) return;
    await writeExportPart(this.exportId, this.parts++, this.buffer);
    this.bytes += Buffer.byteLength(this.buffer);
    this.buffer = '';
  }
}
