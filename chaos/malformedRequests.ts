import jwt from 'jsonwebtoken';
import type { BenchStack } from '../bench/support/benchStack';
import { createNetwork } from '../bench/support/networkFixture';
import { snapshot } from './dataSnapshot';
import { changedState, queueCounts, quietState, roomEventCounts, type SystemState } from './systemState';
import { exampleFromSchema, fillPath, loadRouteCatalog, type CatalogRoute, type JsonSchema } from './routeCatalog';
import type { ScenarioResult } from './scenarioResult';
import { answerText } from './answerText';

const MIN_REQUESTS = 2000;
const CONCURRENCY = 8;

/**
 * Malformed requests that may be answered 2xx, with why. Nothing else may: every other write
 * carries a defect that must refuse it. (Whatever they did is still compared once quiet.)
 */
const EXPECTED_WRITES: Array<{ route: string; kind: RegExp; why: string }> = [
  {
    route: 'POST /v1/ops/queues/{queue}/retry',
    kind: /^content-type /,
    why: 'its body is optional (no jobIds: retry every failed job) and a body that is not JSON is not read, so the request is the valid "retry all" of an operator',
  },
];

interface BadRequest {
  route: CatalogRoute;
  kind: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Path ids no real record has: MongoDB operators, traversal, huge, unicode, control characters. */
const BAD_IDS = [
  '{"$gt":""}',
  '{"$ne":null}',
  '$where',
  '[$ne]',
  '$regex',
  '../../etc/passwd',
  'a'.repeat(5000),
  '💬🚀🏢',
  'مرحبا\u202eevil',
  '\u0000',
  '\u0007bell',
  ' ',
  'null',
  '-1',
  '0x7fffffff',
  `x'; DROP TABLE customers; --`,
  'ch_AAAAAAAAAAAAAAAA',
  '$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  '%ZZ',
  'constructor',
  '__proto__',
];

const BAD_QUERIES = [
  'cursor[$gt]=',
  'cursor=%%%25',
  `cursor=${Buffer.from('["x",{"$gt":1}]').toString('base64url')}`,
  `cursor=${Buffer.from('{"$where":"sleep(1000)"}').toString('base64url')}`,
  'cursor=' + 'A'.repeat(4000),
  'limit=-1',
  'limit=abc',
  'limit=1e400',
  'limit=99999999999999999999',
  'limit[$gt]=1',
  'limit=1&limit=2',
  'q[$regex]=.*',
  'q=' + encodeURIComponent('(a+)+$'),
  'q=' + 'x'.repeat(3000),
  'q=' + encodeURIComponent('💬\u0000'),
  'locationId[$ne]=x',
  'from=%00',
  'from=' + 'z'.repeat(2000),
  'erase=maybe',
  'unreadOnly=yes',
  '__proto__[admin]=1',
];

/** JSON bodies that must be refused: broken syntax, wrong shapes, operators, pollution, size. */
function badBodies(example: unknown, schema: JsonSchema | null): Array<[string, string | Buffer]> {
  const deep = '['.repeat(20000) + ']'.repeat(20000);
  const out: Array<[string, string | Buffer]> = [
    ['broken JSON', '{"a":'],
    ['JSON null', 'null'],
    ['JSON string', '"text"'],
    ['JSON number', '12345'],
    ['JSON array', '[]'],
    ['deep nesting', deep],
    ['huge body', JSON.stringify({ body: 'x'.repeat(3 * 1024 * 1024) })],
    ['operator keys', JSON.stringify({ $set: { chatsEnabled: false }, $where: '1' })],
    ['prototype pollution', '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}}}'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['BOM and garbage', '\ufeff{garbage}'],
  ];
  if (example && typeof example === 'object' && !Array.isArray(example)) {
    out.push(['unknown key added', JSON.stringify({ ...example, $where: 'this.a' })]);
    for (const [f, fieldSchema] of Object.entries(schema?.properties ?? {})) {
      // Only values the field's schema does not allow: each variant must be refused.
      const allowed = allowedTypes(fieldSchema);
      const variants: Array<[string, string, unknown]> = [
        ['operator object', 'object', { $gt: '' }],
        ['array', 'array', [{ $ne: null }]],
        ['number', 'number', 1e308],
        ['boolean', 'boolean', true],
        ['string', 'string', 'not-a-valid-value'],
        ['null', 'null', null],
      ];
      for (const [label, type, value] of variants) {
        if (allowed.has(type) || (type === 'number' && allowed.has('integer'))) continue;
        out.push([`${f} as ${label}`, JSON.stringify({ ...example, [f]: value })]);
      }
      if (allowed.has('string') && fieldSchema.maxLength !== undefined) {
        out.push([`${f} over maxLength`, JSON.stringify({ ...example, [f]: 'y'.repeat(fieldSchema.maxLength + 1) })]);
      }
    }
  }
  return out;
}

/**
 * R5: at least 2,000 generated malformed requests across every route of the OpenAPI document —
 * bad or forged tokens, path ids carrying MongoDB operators, broken and hostile bodies and query
 * strings, broken multipart — then: no answer ≥ 500, no internals in any answer, the portal API
 * process still alive and answering, no write answered 2xx, and once the system is quiet again
 * (no job left, every transaction applied) nothing changed: every MongoDB collection (count and
 * content), the events of every room the service bot is in on Synapse (and how many rooms), and
 * the jobs of the queues in every state.
 *
 * Every request that could write carries a defect that must make it refused, so any of these
 * moving means a malformed request got through.
 */
export async function malformedRequests(b: BenchStack, portal: { running: boolean }): Promise<ScenarioResult> {
  const net = await createNetwork(b, { customers: { 'r5-c': 'Malformed Max', 'r5-d': 'Malformed Dora' }, admins: { 'r5-admin': 'Malformed Admin' } });
  const chat = await b.ok('POST', '/v1/chats', net.customer('r5-c'), { userId: 'r5-d', via: { type: 'community' } });
  const routes = await loadRouteCatalog(b.baseUrl);
  const { jwt: cfg } = b.config;
  const sign = (claims: Record<string, unknown>, key = cfg.key, opts: jwt.SignOptions = {}) =>
    jwt.sign(claims, key, { algorithm: cfg.algorithm, issuer: cfg.issuer, audience: cfg.audience, expiresIn: 600, ...opts } as jwt.SignOptions);
  const validToken = (role: string) => (role === 'operator' ? b.token('operator', 'r5-op') : role === 'customer' ? net.customer('r5-c') : role === 'admin' ? net.admin('r5-admin') : net.service);
  const unsigned = (claims: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
  const now = Math.floor(Date.now() / 1000);
  const badAuth: Array<[string, string | undefined]> = [
    ['no Authorization', undefined],
    ['empty Bearer', 'Bearer '],
    ['Basic auth', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['garbage token', 'Bearer not.a.jwt'],
    ['alg none', `Bearer ${unsigned({ role: 'operator', sub: 'x', iss: cfg.issuer, aud: cfg.audience, exp: now + 600 })}`],
    ['wrong secret', `Bearer ${sign({ role: 'operator' }, 'another-secret-that-is-long-enough-0123456789', { subject: 'x' })}`],
    ['expired', `Bearer ${jwt.sign({ role: 'operator', sub: 'x', exp: now - 3600 }, cfg.key, { algorithm: cfg.algorithm, issuer: cfg.issuer, audience: cfg.audience } as jwt.SignOptions)}`],
    ['wrong audience', `Bearer ${sign({ role: 'operator' }, cfg.key, { subject: 'x', audience: 'someone-else' })}`],
    ['role root', `Bearer ${sign({ role: 'root', net: net.net }, cfg.key, { subject: 'x' })}`],
    ['net operator', `Bearer ${sign({ role: 'service', net: { $ne: null } }, cfg.key, { subject: 'x' })}`],
    ['sub operator', `Bearer ${sign({ role: 'customer', net: net.net, sub: { $gt: '' } }, cfg.key)}`],
    ['huge forged token', `Bearer ${sign({ role: 'customer', net: net.net, pad: 'p'.repeat(6000) }, 'another-secret-that-is-long-enough-0123456789', { subject: 'r5-c' })}`],
    ['no exp', `Bearer ${jwt.sign({ role: 'operator', sub: 'x' }, cfg.key, { algorithm: cfg.algorithm, issuer: cfg.issuer, audience: cfg.audience })}`],
  ];
  const goodIds: Record<string, string> = { nid: net.net, chatId: chat.id, cid: 'r5-c', aid: 'r5-admin', lid: 'loc-1', pid: 'post-1', bid: 'booking-1', jobId: 'none', queue: 'provisioning', messageId: '$none', mediaId: 'none' };
  const pick = (field: string): unknown => (field === 'txnId' ? 'r5-txn' : field === 'userId' ? 'r5-d' : field === 'customerId' ? 'r5-d' : undefined);

  const requests: BadRequest[] = [];
  for (const route of routes) {
    const role = route.roles[0] ?? 'operator';
    const auth = `Bearer ${validToken(role)}`;
    const example = route.bodySchema ? exampleFromSchema(route.bodySchema, pick) : undefined;
    const writes = route.method !== 'GET';
    // A defect every write request carries, so that nothing may be stored.
    const refusedBody = route.bodySchema ? JSON.stringify({ ...(example as object), $where: 'x' }) : undefined;
    const jsonHeaders = (a?: string) => ({ ...(a ? { authorization: a } : {}), 'content-type': 'application/json' });
    const goodPath = fillPath(route, goodIds);
    for (const [kind, header] of badAuth) {
      requests.push({ route, kind: `auth: ${kind}`, path: goodPath, headers: jsonHeaders(header), body: route.bodySchema ? JSON.stringify(example) : undefined });
    }
    for (const param of route.pathParams) {
      for (const bad of BAD_IDS) {
        // Writes keep a refused body (or have none): a bad id must be refused, not stored.
        requests.push({ route, kind: `path ${param}`, path: fillPath(route, { ...goodIds, [param]: bad }), headers: jsonHeaders(auth), body: refusedBody });
      }
      requests.push({ route, kind: `path ${param} raw %`, path: fillPath(route, { ...goodIds, [param]: '%ZZ%00%' }, true), headers: jsonHeaders(auth), body: refusedBody });
    }
    for (const q of BAD_QUERIES) {
      if (writes && !route.bodySchema) continue;
      requests.push({ route, kind: `query ${q.slice(0, 20)}`, path: `${goodPath}?${q}`, headers: jsonHeaders(auth), body: refusedBody });
    }
    if (route.bodySchema) {
      for (const [kind, body] of badBodies(example, route.bodySchema)) requests.push({ route, kind: `body: ${kind}`, path: goodPath, headers: jsonHeaders(auth), body });
      for (const [kind, type] of [['text/plain', 'text/plain'], ['form', 'application/x-www-form-urlencoded'], ['xml', 'application/xml'], ['utf-16 json', 'application/json; charset=utf-16']]) {
        requests.push({ route, kind: `content-type ${kind}`, path: goodPath, headers: { authorization: auth, 'content-type': type! }, body: '$where=1&a[$gt]=' });
      }
    }
    if (route.multipart) {
      const boundary = '----r5boundary';
      const part = (name: string, content: string, filename?: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n${content}\r\n`;
      const multipart: Array<[string, string, string]> = [
        ['no boundary', 'multipart/form-data', part('file', 'x', 'a.pdf')],
        ['wrong boundary', 'multipart/form-data; boundary=other', part('file', 'x', 'a.pdf') + `--${boundary}--`],
        ['truncated', `multipart/form-data; boundary=${boundary}`, part('txnId', 'r5').slice(0, 30)],
        ['no file', `multipart/form-data; boundary=${boundary}`, part('txnId', 'r5') + `--${boundary}--\r\n`],
        ['file without name', `multipart/form-data; boundary=${boundary}`, part('txnId', 'r5-noname') + part('file', 'plain text') + `--${boundary}--\r\n`],
        ['two files', `multipart/form-data; boundary=${boundary}`, part('txnId', 'r5') + part('file', 'plain text one', 'a.txt') + part('file', 'plain text two', 'b.txt') + `--${boundary}--\r\n`],
        ['operator txnId', `multipart/form-data; boundary=${boundary}`, part('txnId', '{"$gt":""}') + part('file', 'plain text', 'a.txt') + `--${boundary}--\r\n`],
        ['huge txnId', `multipart/form-data; boundary=${boundary}`, part('txnId', 't'.repeat(100000)) + part('file', 'plain', 'a.txt') + `--${boundary}--\r\n`],
        ['executable', `multipart/form-data; boundary=${boundary}`, part('txnId', 'r5-exe') + part('file', '\x7fELF\x02\x01\x01', 'photo.png') + `--${boundary}--\r\n`],
        ['unicode filename', `multipart/form-data; boundary=${boundary}`, part('txnId', 'r5-uni') + part('file', 'plain', '💬\u202e.txt') + `--${boundary}--\r\n`],
        ['JSON instead', 'application/json', '{"file":"x","txnId":"r5"}'],
      ];
      for (const [kind, type, body] of multipart) requests.push({ route, kind: `multipart: ${kind}`, path: goodPath, headers: { authorization: auth, 'content-type': type }, body });
    }
  }
  // Top up with auth and id variants, round robin over the routes, to reach the minimum.
  for (let i = 0; requests.length < MIN_REQUESTS; i++) {
    const route = routes[i % routes.length]!;
    const [kind, header] = badAuth[i % badAuth.length]!;
    const bad = BAD_IDS[i % BAD_IDS.length]!;
    const values = Object.fromEntries(route.pathParams.map((p) => [p, bad]));
    requests.push({ route, kind: `auth+ids: ${kind}`, path: fillPath(route, { ...goodIds, ...values }), headers: { ...(header ? { authorization: header } : {}), 'content-type': 'application/json' }, body: route.bodySchema ? '{"$where":"1"}' : undefined });
  }

  // Quiet system first (no job left, every pushed transaction applied, the state read twice the
  // same): nothing else is writing while the state is taken.
  const state = async (): Promise<SystemState> => ({ data: await snapshot(), rooms: await roomEventCounts(b), queues: await queueCounts(b) });
  const before = await quietState(b, state);

  const serverErrors: string[] = [];
  const leakyAnswers: string[] = [];
  const acceptedWrites: string[] = [];
  const expectedWrites: string[] = [];
  // The health route answers 503 when a dependency is down at that moment: a report, not a crash.
  let healthDegraded = 0;
  const statusCounts: Record<string, number> = {};
  let transportErrors = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const req = requests[next++]!;
        try {
          const res = await fetch(b.baseUrl + req.path, { method: req.route.method, headers: req.headers, body: req.route.method === 'GET' ? undefined : (req.body as RequestInit['body']) });
          // An event stream does not end by itself: its status and headers are its answer.
          const text = await answerText(res);
          const bucket = `${Math.floor(res.status / 100)}xx`;
          statusCounts[bucket] = (statusCounts[bucket] ?? 0) + 1;
          if (res.status < 300 && req.route.method !== 'GET') {
            const what = `${res.status} ${req.route.method} ${req.route.template} (${req.kind})`;
            if (EXPECTED_WRITES.some((e) => e.route === `${req.route.method} ${req.route.template}` && e.kind.test(req.kind))) expectedWrites.push(what);
            else acceptedWrites.push(what);
          }
          if (res.status === 503 && req.route.template === '/v1/ops/health' && /"status":"degraded"/.test(text)) healthDegraded++;
          else if (res.status >= 500) serverErrors.push(`${res.status} ${req.route.method} ${req.route.template} (${req.kind}): ${text.slice(0, 200)}`);
          if (/node_modules|\.ts:\d+|at [A-Za-z.]+ \(|Mongo[A-Z][a-zA-Z]*Error|ZodError|stack/.test(text)) leakyAnswers.push(`${req.route.method} ${req.route.template} (${req.kind}): ${text.slice(0, 200)}`);
        } catch (err) {
          // The client refused to send it (e.g. a header it cannot encode) or the connection broke.
          transportErrors++;
          if (!/fetch failed|invalid|Headers/i.test((err as Error).message)) serverErrors.push(`transport: ${(err as Error).message}`);
        }
      }
    }),
  );
  // Whatever a request set going (a job, a Matrix event, a webhook) has had its time to land.
  const after = await quietState(b, state);
  const changed = changedState(before, after);
  const health = await b.api('GET', '/v1/ops/health', b.token('operator', 'r5-op')).catch(() => ({ status: 0 }));
  const alive = portal.running && health.status > 0 && health.status < 500;
  const roomsWatched = Math.max(0, before.rooms.size - 1);

  const problems: string[] = [];
  if (requests.length < MIN_REQUESTS) problems.push(`only ${requests.length} requests`);
  if (serverErrors.length) problems.push(`${serverErrors.length} answers ≥ 500, e.g. ${serverErrors.slice(0, 3).join(' | ')}`);
  if (leakyAnswers.length) problems.push(`${leakyAnswers.length} answers show internals, e.g. ${leakyAnswers[0]}`);
  if (!alive) problems.push(`portal API not alive afterwards (health ${health.status})`);
  // Every write request carries a defect: any 2xx to one is a malformed request that got through.
  if (acceptedWrites.length) problems.push(`${acceptedWrites.length} malformed writes answered 2xx: ${[...new Set(acceptedWrites)].slice(0, 8).join(' | ')}`);
  if (changed.data.length) problems.push(`data changed: ${changed.data.join(', ')}`);
  if (changed.rooms.length) problems.push(`Synapse rooms changed: ${changed.rooms.slice(0, 8).join(', ')}`);
  if (changed.queues.length) problems.push(`queue jobs changed: ${changed.queues.join(', ')}`);
  if (roomsWatched === 0) problems.push('no Synapse room to watch: the room comparison proves nothing');
  return {
    id: 'R5',
    title: 'malformed requests across every route',
    counts: { requests: requests.length, routes: routes.length, ...statusCounts, transportRefused: transportErrors, ge500: serverErrors.length, leaks: leakyAnswers.length, acceptedWrites: acceptedWrites.length, expectedWrites: expectedWrites.length, healthDegraded, alive: alive ? 'yes' : 'NO', changedCollections: changed.data.length, roomsWatched, changedRooms: changed.rooms.length, changedQueues: changed.queues.length, quietWaitMs: after.waitedMs },
    problems,
  };
}

/** JSON types a schema accepts ("any" when it says nothing); optional fields also accept null only when nullable. */
function allowedTypes(schema: JsonSchema): Set<string> {
  const out = new Set<string>();
  const visit = (s: JsonSchema) => {
    for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) visit(alt);
    if (Array.isArray(s.type)) s.type.forEach((t) => out.add(t));
    else if (s.type) out.add(s.type);
    if (s.enum) for (const v of s.enum) out.add(v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
    if (s.const !== undefined) out.add(s.const === null ? 'null' : typeof s.const);
  };
  visit(schema);
  if (out.size === 0) ['object', 'array', 'number', 'boolean', 'string', 'null'].forEach((t) => out.add(t));
  // An enum of strings does not accept other strings, but "string" is the type: keep it allowed (conservative).
  return out;
}
