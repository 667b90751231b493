import { randomUUID } from 'node:crypto';
import type { Role } from '../portal-api/auth';
import { eventually, type BenchStack } from '../bench/support/benchStack';
import { createNetwork, runId } from '../bench/support/networkFixture';
import { snapshot } from './dataSnapshot';
import { changedState, queueCounts, quietState, roomEventCounts, type SystemState } from './systemState';
import { LocationModel, NetworkModel } from '../store';
import { exampleFromSchema, fillPath, loadRouteCatalog } from './routeCatalog';
import type { ScenarioResult } from './scenarioResult';
import { answerText } from './answerText';

/** Collections whose documents cannot be attributed to a network (events kept as JSON text). */
const UNSCOPED = new Set(['appservice_transactions']);

/**
 * R6: the authorization matrix. Every route of the OpenAPI document × every role of network A
 * (customer, admin, service; the operator only where the route does not allow operators) × the ids
 * of a foreign network B in the path, query and body. No 2xx may carry anything of B (ids, names,
 * message text), no refusal anything of B that the request did not carry itself, and once the
 * system is quiet nothing of B may have changed: its documents, the events of its rooms on Synapse,
 * and no job may have been queued. Every route must have been called, and reached with a token the
 * portal accepted (a route where every call is a 401 never tested the rules).
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
  // B's rooms on Synapse: the support and direct rooms, and the network's and location's spaces.
  const foreignNetwork = await NetworkModel.findById(foreign.net).lean();
  const foreignSpaces = [foreignNetwork?.spaceRoomId, ...(await LocationModel.find({ networkId: foreign.net }).lean()).map((l) => l.spaceRoomId)].filter((r): r is string => typeof r === 'string');
  const watchedRooms = [...foreignRooms, ...foreignSpaces];
  const state = async (): Promise<SystemState> => ({ data: await snapshot(scoped), rooms: await roomEventCounts(b, watchedRooms), queues: await queueCounts(b) });
  const before = await quietState(b, state);

  const routes = await loadRouteCatalog(b.baseUrl);
  const callers: Array<[Role, string]> = [
    ['customer', a.customer('a-cust')],
    ['admin', a.admin('a-admin')],
    ['service', a.service],
    ['operator', b.token('operator', 'r6-operator')],
  ];
  const leaks: string[] = [];
  const statuses: Record<string, number> = {};
  /** Calls per route, and of those the ones whose token was accepted (not 401). */
  const perRoute = new Map(routes.map((r) => [`${r.method} ${r.template}`, { calls: 0, authenticated: 0 }]));
  const acceptedWrites: string[] = [];
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
        // An event stream does not end by itself: its status and headers are its answer.
        const text = await answerText(res);
        calls++;
        const tally = perRoute.get(`${route.method} ${route.template}`)!;
        tally.calls++;
        if (res.status !== 401) tally.authenticated++;
        statuses[`${Math.floor(res.status / 100)}xx`] = (statuses[`${Math.floor(res.status / 100)}xx`] ?? 0) + 1;
        // A 2xx may carry nothing of B. A refusal may repeat what the caller sent itself (an id
        // in the path or body), never anything else of B (a name, a room, the message text).
        const sent = decodeURIComponent(path) + (body ?? '');
        const found = markers.filter((m) => text.includes(m) && (res.status < 300 || !sent.includes(m)));
        if (found.length && res.status < 500) leaks.push(`${role} ${route.method} ${path} → ${res.status} carrying ${found.join(', ')}`);
        if (res.status >= 200 && res.status < 300 && route.method !== 'GET') acceptedWrites.push(`${role} ${route.method} ${route.template} → ${res.status}`);
        if (res.status >= 500) leaks.push(`${role} ${route.method} ${path} → ${res.status}`);
      }
    }
  }
  // Anything that reached B's data through A's tokens shows up here once the system is quiet (a
  // queued job has run, a Matrix event has come back as a transaction), even without a 2xx echo.
  const after = await quietState(b, state);
  const changed = changedState(before, after);
  const untested = [...perRoute].filter(([, t]) => t.calls === 0).map(([k]) => k);
  const unauthenticated = [...perRoute].filter(([, t]) => t.calls > 0 && t.authenticated === 0).map(([k]) => k);
  const problems: string[] = [];
  if (routes.length === 0) problems.push('the route catalog is empty: nothing was tested');
  if (untested.length) problems.push(`${untested.length} routes never called: ${untested.slice(0, 5).join(', ')}`);
  if (unauthenticated.length) problems.push(`${unauthenticated.length} routes refused every token as unauthenticated (the rules were never reached): ${unauthenticated.slice(0, 5).join(', ')}`);
  if (leaks.length) problems.push(`${leaks.length} leaks: ${leaks.slice(0, 5).join(' | ')}`);
  if (changed.data.length) problems.push(`foreign data changed: ${changed.data.join(', ')}`);
  if (changed.rooms.length) problems.push(`foreign rooms changed on Synapse: ${changed.rooms.join(', ')}`);
  if (changed.queues.length) problems.push(`jobs queued or run: ${changed.queues.join(', ')}; writes answered 2xx: ${[...new Set(acceptedWrites)].slice(0, 8).join(' | ')}`);
  return {
    id: 'R6',
    title: "authorization matrix with a foreign network's ids",
    counts: { routes: routes.length, roles: callers.length, calls, minCallsPerRoute: Math.min(...[...perRoute.values()].map((t) => t.calls)), ...statuses, leaks: leaks.length, acceptedWrites: acceptedWrites.length ? `${acceptedWrites.length} (${[...new Set(acceptedWrites)].join('; ')})` : 0, foreignChanged: changed.data.length, foreignRooms: watchedRooms.length, foreignRoomsChanged: changed.rooms.length, queuesChanged: changed.queues.length, quietWaitMs: after.waitedMs },
    problems,
  };
}
