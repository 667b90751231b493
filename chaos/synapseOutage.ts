import { randomUUID } from 'node:crypto';
import { eventually, type BenchStack } from '../bench/support/benchStack';
import { createNetwork } from '../bench/support/networkFixture';
import type { ScenarioResult } from './scenarioResult';

const SENDERS = 4;
const MAX_SENDS = 400;
const DOWN_MS = 6000;

/**
 * R4: Synapse is stopped while portal sends keep coming. While it is down, sends answer
 * 503 upstream_unavailable with Retry-After; once it is back, every txnId is sent again (the ones
 * that succeeded too) and each must yield exactly one message, the same one as before.
 */
export async function synapseOutage(b: BenchStack): Promise<ScenarioResult> {
  const net = await createNetwork(b, { customers: { 'r4-a': 'Outage Alice', 'r4-b': 'Outage Bob' } });
  const alice = net.customer('r4-a');
  const chat = await b.ok('POST', '/v1/chats', alice, { userId: 'r4-b', via: { type: 'community' } });
  const tag = randomUUID().slice(0, 8);
  const first = new Map<string, { status: number; eventId?: string }>();
  const statuses: Record<string, number> = {};
  const problems: string[] = [];
  let down = false;
  let cameBack = false;
  let next = 0;
  const outage = (async () => {
    // Some sends succeed first, so retries of successful txnIds are checked too.
    await eventually('the first sends', async () => next >= 40, 60000, 20);
    const restart = b.stack.synapse.restart(DOWN_MS);
    await eventually('Synapse to stop', async () => !(await b.matrix.health()), 30000, 50);
    down = true;
    await restart;
    cameBack = true;
  })();
  // Awaited below; handled here too so a failure is this scenario's, not an unhandled rejection.
  outage.catch(() => undefined);

  const send = async (txnId: string) => {
    const res = await b.api('POST', `/v1/chats/${chat.id}/messages`, alice, { txnId, body: `r4 ${tag} ${txnId}` }).catch((err: Error) => ({ status: 0, body: { error: { code: err.message } }, headers: new Headers() }));
    return res;
  };
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (next < MAX_SENDS && !(cameBack && next > 40)) {
        const txnId = `r4-${tag}-${next++}`;
        const res = await send(txnId);
        const key = res.status === 503 ? `503 ${res.body?.error?.code}${res.headers.get('retry-after') ? ' +Retry-After' : ' NO Retry-After'}` : String(res.status);
        statuses[key] = (statuses[key] ?? 0) + 1;
        first.set(txnId, { status: res.status, eventId: res.status === 201 ? res.body.id : undefined });
        if (res.status !== 201) await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
  await outage;
  if (!down) problems.push('Synapse never went down: nothing was tested');
  const unavailable = Object.entries(statuses).filter(([k]) => k.startsWith('503')).reduce((s, [, v]) => s + v, 0);
  if (unavailable === 0) problems.push('no send met the outage');
  for (const [k, v] of Object.entries(statuses)) {
    if (k !== '201' && k !== '503 upstream_unavailable +Retry-After') problems.push(`${v} sends answered ${k}`);
  }

  // Retry every txnId once Synapse is back.
  await eventually('Synapse to answer again', () => b.matrix.health(), 60000, 200);
  let changedOnRetry = 0;
  let retryFailures = 0;
  for (const [txnId, was] of first) {
    const res = await send(txnId);
    if (res.status !== 201) {
      retryFailures++;
      continue;
    }
    if (was.eventId && was.eventId !== res.body.id) changedOnRetry++;
  }
  if (retryFailures) problems.push(`${retryFailures} retries after the outage did not succeed`);
  if (changedOnRetry) problems.push(`${changedOnRetry} retries returned a different message than the first success`);

  // Synapse's own history: each txnId's message exactly once.
  const seen = new Map<string, number>();
  let from: string | undefined;
  for (;;) {
    const page = await b.matrix.messages(chat.matrixRoomId, net.customerUserId('r4-a'), { from, limit: 500, dir: 'b', filter: { types: ['m.room.message'] } });
    for (const e of page.chunk) {
      const body = String(e.content?.body ?? '');
      if (body.startsWith(`r4 ${tag} `)) seen.set(body, (seen.get(body) ?? 0) + 1);
    }
    if (!page.end || page.chunk.length === 0) break;
    from = page.end;
  }
  const missing = [...first.keys()].filter((t) => !seen.has(`r4 ${tag} ${t}`)).length;
  const duplicated = [...seen.values()].filter((n) => n > 1).length;
  if (missing) problems.push(`${missing} txnIds have no message`);
  if (duplicated) {
    const which = [...seen.entries()].filter(([, n]) => n > 1).map(([body, n]) => {
      const txnId = body.slice(`r4 ${tag} `.length);
      return `${txnId} ×${n} (first answer ${first.get(txnId)?.status})`;
    });
    problems.push(`${duplicated} txnIds have more than one message: ${which.slice(0, 5).join(', ')}`);
  }
  return {
    id: 'R4',
    title: 'Synapse stopped during portal sends, same txnIds retried after',
    counts: {
      txnIds: first.size,
      ...Object.fromEntries(Object.entries(statuses).map(([k, v]) => [`first:${k.replace(/ /g, '_')}`, v])),
      messages: seen.size,
      missing,
      duplicated,
      changedOnRetry,
    },
    problems,
  };
}
