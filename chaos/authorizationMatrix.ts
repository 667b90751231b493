import { randomUUID } from 'node:crypto';
import type { Role } from '../portal-api/auth';
import { eventually, type BenchStack } from '../bench/support/benchStack';
import { createNetwork, runId } from '../bench/support/networkFixture';
import { changedCollections, snapshot } from './dataSnapshot';
import { exampleFromSchema, fillPath, loadRouteCatalog } from './routeCatalog';
import type { ScenarioResult } from './scenarioResult';

/** Collections whose documents cannot be attributed to a network (events kept as JSON text). */
const UNSCOPED = new Set(['appservice_transactions']);

/**
 * R6: the authorization matrix. Every route of the OpenAPI document × every role of network A
 * (customer, admin, service; the operator only where the route does not allow operators) × the ids
 * of a foreign network B in the path, query and body. No answer may be a 2xx that carries anything
 * of B (ids, names, message text), and nothing of B may change.
 */
export async function authorizationMatrix(b: BenchStack): Promise<ScenarioResult> {
  const tag = randomUUID().slice(0, 6);
  const a = await createNetwork(b, { customers: { 'a-cust': 'Home Hanna', 'a-peer': 'Home Peter' }, admins: { 'a-admin': 'Home Admin' } });
  const fc = `fiona-${tag}`;
  const fg = `gustav-${tag}`;
  const fa = `fadmin-${tag}`;
  const foreign = await createNetwork(b, { net: runId('foreign'), customers: { [fc]: `Foreign Fiona ${tag}`, [fg]: `Foreign Gustav ${tag}` }, admins: { [fa]: `Foreign Admin ${tag}` } });
  await b.ok('PUT', `/v1/networks/${foreign.net}/feed-posts/fpost-${tag}`, foreign.service, { authorId: fc, locationId: 'loc-1', createdAt: new Date().toISOString() });
  await b.ok('PUT', `/v1/networks/${foreign.net}/bookings/fbook-${tag}`, foreign.service, { locationId: 'loc-1', participantIds: [fc, fg], shared: true });
  const direct = await b.ok('POST', '/v1/chats', foreign.customer(fc), { userId: fg, via: { type: 'community' } });
  const support = await b.ok('POST', '/v1/chats/support', foreign.customer(fc));
  const secret = `foreign secret text ${tag}`;
  const message = await b.ok('POST', `/v1/chats/${support.id}/messages`, foreign.customer(fc), { txnId: `f-${tag}`, body: secret });
  const job = await b.ok('PUT', `/v1/networks/${foreign.net}/customers/fjob-${tag}`, foreign.service, { kind: 'member', displayName: `Foreign Jobber ${tag}`, locationIds: ['loc-1'], hideNameOnBookings: false, status: 'active' });
  const foreignChats = [direct.id, support.id];
  const foreignRooms = [direct.matrixRoomId, support.matrixRoomId];
  // The support message reaches the index and B's administrator's notifications before the snapshot.
  await eventually('the foreign support message to be indexed', async () => (await b.api('GET', `/v1/networks/${foreign.net}/notifications`, foreign.admin(fa))).body?.notifications?.length > 0, 60000, 200);

  const markers = [foreign.net, fc, fg, fa, `fjob-${tag}`, `Foreign Fiona ${tag}`, `Foreign Gustav ${tag}`, `Foreign Jobber ${tag}`, ...foreignChats, ...foreignRooms, secret, message.id, `fpost-${tag}`, `fbook-${tag}`];
  const ids: Record<string, string> = {
    nid: foreign.net,
    cid: fc,
    aid: fa,
    lid: 'loc-1',
    pid: `fpost-${tag}`,
    bid: `fbook-${tag}`,
    chatId: support.id,
    messageId: message.id,
    mediaId: 'none',
    jobId: job.provisioningJobId ?? 'none',
    queue: 'provisioning',
  };
  const pick = (field: string): unknown =>
    ({ userId: fg, customerId: fc, customerIds: fc, authorId: fc, participantId: fc, locationId: 'loc-1', messageId: message.id, txnId: `r6-${randomUUID()}`, body: 'hello' })[field];

  const scoped = (collection: string) =>
    UNSCOPED.has(collection)
      ? null
      : { $or: [{ networkId: foreign.net }, { _id: foreign.net }, { chatId: { $in: foreignChats } }, { roomId: { $in: foreignRooms } }, { _id: { $in: [...foreignChats, message.id] } }] };
  let before = await snapshot(scoped);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const again = await snapshot(scoped);
    if (changedCollections(before, again).length === 0) break;
    before = again;
  }

  const routes = await loadRouteCatalog(b.baseUrl);
  const callers: Array<[Role, string]> = [
    ['customer', a.customer('a-cust')],
    ['admin', a.admin('a-admin')],
    ['service', a.service],
    ['operator', b.token('operator', 'r6-operator')],
  ];
  const leaks: string[] = [];
  const statuses: Record<string, number> = {};
  let calls = 0;
  for (const route of routes) {
    for (const [role, token] of callers) {
      // Operators are not bound to a network; they are checked only where they are not allowed at all.
      if (role === 'operator' && route.roles.includes('operator')) continue;
      const variants = [ids, { ...ids, chatId: direct.id }];
      for (const values of route.template.includes('{chatId}') ? variants : [ids]) {
        const query = route.queryParams.includes('locationId') ? '?locationId=loc-1' : route.queryParams.includes('erase') ? '?erase=true' : '';
        const path = fillPath(route, values) + query;
        const body = route.bodySchema ? JSON.stringify(exampleFromSchema(route.bodySchema, pick)) : undefined;
        const res = await fetch(b.baseUrl + path, {
          method: route.method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body,
        });
        const text = await res.text();
        calls++;
        statuses[`${Math.floor(res.status / 100)}xx`] = (statuses[`${Math.floor(res.status / 100)}xx`] ?? 0) + 1;
        if (res.status >= 200 && res.status < 300) {
          const found = markers.filter((m) => text.includes(m));
          if (found.length) leaks.push(`${role} ${route.method} ${path} → ${res.status} carrying ${found.join(', ')}`);
        }
        if (res.status >= 500) leaks.push(`${role} ${route.method} ${path} → ${res.status}`);
      }
    }
  }
  // Anything that reached B's data through A's tokens shows up here, even without a 2xx echo.
  await new Promise((r) => setTimeout(r, 2000));
  const changed = changedCollections(before, await snapshot(scoped));
  const problems: string[] = [];
  if (leaks.length) problems.push(`${leaks.length} leaks: ${leaks.slice(0, 5).join(' | ')}`);
  if (changed.length) problems.push(`foreign data changed: ${changed.join(', ')}`);
  return {
    id: 'R6',
    title: "authorization matrix with a foreign network's ids",
    counts: { routes: routes.length, roles: callers.length, calls, ...statuses, leaks: leaks.length, foreignChanged: changed.length },
    problems,
  };
}
