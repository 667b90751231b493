import { createRootLogger } from '../../runtime/logger';
import { mintToken, ROLES, type Role } from '../../portal-api/auth';
import { allRoutes } from '../../portal-api/app';
import { startPortalApi, type PortalApiHandle } from '../../portal-api/start';
import { callApi, testConfig, uniqueId } from '../support/harness';

/**
 * The contract every route keeps, checked over the whole route table so a new route cannot skip
 * it: no token → 401, a role the route is not for → 403, another network's ids → 404, bad input →
 * 400 naming the field; plus rate limiting, the OpenAPI document and its rendered page.
 */
describe('portal API contract', () => {
  const config = testConfig();
  const log = createRootLogger('silent', 'test');
  let portal: PortalApiHandle;
  const netA = uniqueId('neta');
  const netB = uniqueId('netb');
  const token = (role: Role, net?: string, sub = role === 'admin' ? 'ada' : role === 'customer' ? 'alice' : 'host') =>
    mintToken(
      { secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience },
      { role, sub, net: role === 'operator' ? undefined : net },
    );
  const api = (method: string, path: string, tok?: string, body?: unknown) => callApi(portal.url, method, path, tok, body);

  beforeAll(async () => {
    portal = await startPortalApi(config, { log });
    for (const net of [netA, netB]) {
      const service = token('service', net);
      expect((await api('PUT', `/v1/networks/${net}`, service, { name: net })).status).toBe(200);
      expect((await api('PUT', `/v1/networks/${net}/admins/ada`, service, { displayName: 'Ada Admin' })).status).toBe(200);
      const customer = await api('PUT', `/v1/networks/${net}/customers/alice`, service, {
        kind: 'member',
        displayName: 'Alice Andersen',
        locationIds: [],
        hideNameOnBookings: false,
        status: 'active',
      });
      expect(customer.status).toBe(201);
    }
  });
  afterAll(async () => {
    await portal?.stop();
  });

  const routes = () => allRoutes(portal.deps);
  const SAMPLE: Record<string, string> = { chatId: 'ch_AAAAAAAAAAAAAAAA', messageId: '$abcdef', mediaId: 'abcdef' };
  const fill = (path: string, nid: string) =>
    path.replace(/(?<!\\):([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(name === 'nid' ? nid : (SAMPLE[name] ?? 'x1'))).replace(/\\/g, '');

  test('every route refuses a request without a token (401)', async () => {
    for (const route of routes()) {
      const res = await api(route.method.toUpperCase(), fill(route.path, netA));
      expect({ route: `${route.method} ${route.path}`, status: res.status, code: res.body?.error?.code }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
        code: 'unauthenticated',
      });
    }
  });

  test('every route refuses each role it is not for (403)', async () => {
    let checked = 0;
    for (const route of routes()) {
      for (const role of ROLES.filter((r) => !route.roles.includes(r))) {
        const res = await api(route.method.toUpperCase(), fill(route.path, netA), token(role, netA));
        expect({ route: `${role} ${route.method} ${route.path}`, status: res.status }).toEqual({
          route: `${role} ${route.method} ${route.path}`,
          status: 403,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  test("every network route answers 404 for another network's id, whatever the role", async () => {
    for (const route of routes().filter((r) => r.path.includes(':nid'))) {
      for (const role of route.roles.filter((r) => r !== 'operator')) {
        const body = route.method === 'get' || route.method === 'delete' ? undefined : {};
        const res = await api(route.method.toUpperCase(), fill(route.path, netA), token(role, netB), body);
        expect({ route: `${role} ${route.method} ${route.path}`, status: res.status, code: res.body?.error?.code }).toEqual({
          route: `${role} ${route.method} ${route.path}`,
          status: 404,
          code: 'not_found',
        });
      }
    }
  });

  const customerA = () => token('customer', netA);
  const adminA = () => token('admin', netA);
  const serviceA = () => token('service', netA);
  const operator = () => token('operator');
  const chat = SAMPLE.chatId;
  const customerBody = { kind: 'member', displayName: 'X', locationIds: [], hideNameOnBookings: false, status: 'active' };
  test.each([
    // host platform sync
    ['PUT', `/v1/networks/${netA}`, 'name', serviceA, { name: '' }],
    ['PUT', `/v1/networks/${netA}`, 'chatsEnabled', serviceA, { name: 'N', chatsEnabled: 'yes' }],
    ['PUT', `/v1/networks/${netA}`, 'communityVisibility', serviceA, { name: 'N', communityVisibility: 'everyone' }],
    ['PUT', `/v1/networks/${netA}`, 'colour', serviceA, { name: 'N', colour: 'red' }],
    ['PUT', `/v1/networks/${netA}/locations/l1`, 'name', serviceA, {}],
    ['PUT', `/v1/networks/${netA}/customers/c1`, 'kind', serviceA, { ...customerBody, kind: 'guest' }],
    ['PUT', `/v1/networks/${netA}/customers/c1`, 'displayName', serviceA, { ...customerBody, displayName: '  ' }],
    ['PUT', `/v1/networks/${netA}/customers/c1`, 'avatarUrl', serviceA, { ...customerBody, avatarUrl: 'http://x/y.png' }],
    ['PUT', `/v1/networks/${netA}/customers/c1`, 'locationIds', serviceA, { ...customerBody, locationIds: 'l1' }],
    ['PUT', `/v1/networks/${netA}/customers/c1`, 'hideNameOnBookings', serviceA, { ...customerBody, hideNameOnBookings: 'no' }],
    ['PUT', `/v1/networks/${netA}/customers/c1`, 'status', serviceA, { ...customerBody, status: 'gone' }],
    ['PUT', `/v1/networks/${netA}/admins/a1`, 'displayName', serviceA, {}],
    ['PUT', `/v1/networks/${netA}/admins/a1`, 'notifications.inApp', serviceA, { displayName: 'A', notifications: { inApp: 'x' } }],
    ['PUT', `/v1/networks/${netA}/feed-posts/p1`, 'createdAt', serviceA, { authorId: 'alice', createdAt: 'yesterday' }],
    ['PUT', `/v1/networks/${netA}/feed-posts/p1`, 'authorId', serviceA, { createdAt: new Date().toISOString() }],
    ['PUT', `/v1/networks/${netA}/bookings/b1`, 'participantIds', serviceA, { participantIds: [], shared: true }],
    ['PUT', `/v1/networks/${netA}/bookings/b1`, 'shared', serviceA, { participantIds: ['alice'] }],
    ['PUT', `/v1/ops/networks/${netA}/chats`, 'enabled', operator, { enabled: 'yes' }],
    // administrators
    ['PATCH', `/v1/networks/${netA}/settings`, 'body', adminA, {}],
    ['PATCH', `/v1/networks/${netA}/settings`, 'communityVisibility', adminA, { communityVisibility: 'all' }],
    ['PATCH', `/v1/networks/${netA}/settings`, 'chatsEnabled', adminA, { chatsEnabled: 1 }],
    ['PATCH', `/v1/networks/${netA}/settings`, 'attachments.maxBytes', adminA, { attachments: { maxBytes: 0 } }],
    ['PATCH', `/v1/networks/${netA}/settings`, 'attachments.maxBytes', adminA, { attachments: { maxBytes: 10 ** 12 } }],
    ['PATCH', `/v1/networks/${netA}/settings`, 'attachments.allowedTypes.0', adminA, { attachments: { allowedTypes: ['PDF'] } }],
    ['PATCH', `/v1/networks/${netA}/settings`, 'notifications.webhookUrl', adminA, { notifications: { webhookUrl: 'ftp://x.example' } }],
    ['PATCH', `/v1/networks/${netA}/settings`, 'notifications.webhookSecret', adminA, { notifications: { webhookSecret: 'short' } }],
    ['PATCH', `/v1/networks/${netA}/settings`, 'notifications.webhookSecret', adminA, { notifications: { webhookUrl: 'https://hooks.example/x' } }],
    ['GET', `/v1/networks/${netA}/customers?limit=0`, 'limit', adminA, undefined],
    ['GET', `/v1/networks/${netA}/customers?cursor=bm90LWEtY3Vyc29y`, 'cursor', adminA, undefined],
    ['GET', `/v1/networks/${netA}/chats?limit=many`, 'limit', adminA, undefined],
    ['GET', `/v1/networks/${netA}/chats?cursor=x`, 'cursor', adminA, undefined],
    ['POST', `/v1/networks/${netA}/chats`, 'customerId', adminA, { customerId: '' }],
    ['GET', `/v1/networks/${netA}/notifications?unreadOnly=maybe`, 'unreadOnly', adminA, undefined],
    ['POST', `/v1/networks/${netA}/notifications/read`, 'ids', adminA, {}],
    ['POST', `/v1/networks/${netA}/notifications/read`, 'ids.0', adminA, { ids: ['x'] }],
    ['POST', `/v1/networks/${netA}/notifications/read`, 'ids', adminA, { ids: [], all: true }],
    // customers
    ['GET', '/v1/community?q=', 'q', customerA, undefined],
    ['GET', '/v1/community?limit=101', 'limit', customerA, undefined],
    ['GET', '/v1/community?cursor=%%%', 'cursor', customerA, undefined],
    ['GET', '/v1/chats?cursor=bad', 'cursor', customerA, undefined],
    ['POST', '/v1/chats', 'userId', customerA, { userId: '' }],
    ['POST', '/v1/chats', 'via.type', customerA, { userId: 'bob', via: { type: 'elevator' } }],
    ['POST', '/v1/chats', 'via.id', customerA, { userId: 'bob', via: { type: 'feed_post' } }],
    // participants
    ['GET', '/v1/chats/not-a-chat', 'chatId', customerA, undefined],
    ['GET', `/v1/chats/${chat}/messages?limit=1000`, 'limit', customerA, undefined],
    ['POST', `/v1/chats/${chat}/messages`, 'txnId', customerA, { body: 'hi' }],
    ['POST', `/v1/chats/${chat}/messages`, 'txnId', customerA, { txnId: 'has space', body: 'hi' }],
    ['POST', `/v1/chats/${chat}/messages`, 'body', customerA, { txnId: 't1', body: '   ' }],
    ['POST', `/v1/chats/${chat}/messages`, 'body', customerA, '{"txnId": "t1", '],
    ['POST', `/v1/chats/${chat}/read`, 'messageId', customerA, { messageId: 'not-an-event' }],
    ['DELETE', `/v1/chats/${chat}/messages/not-an-event`, 'messageId', customerA, undefined],
    ['GET', `/v1/chats/${chat}/media/bad$id`, 'mediaId', customerA, undefined],
  ] as const)('%s %s with bad input → 400 naming %s', async (method, path, field, tok, body) => {
    const res = await api(method, path, tok(), body);
    expect({ status: res.status, code: res.body?.error?.code, field: res.body?.error?.field }).toEqual({
      status: 400,
      code: 'invalid_request',
      field,
    });
  });

  test('the OpenAPI document describes every route, and the docs page renders it from local assets', async () => {
    const doc = await api('GET', '/v1/openapi.json');
    expect(doc.status).toBe(200);
    for (const route of routes()) {
      const path = route.path.replace(/(?<!\\):([A-Za-z]+)/g, '{$1}').replace(/\\/g, '');
      expect({ path, method: route.method, described: Boolean(doc.body.paths[path]?.[route.method]) }).toEqual({
        path,
        method: route.method,
        described: true,
      });
    }
    const upload = doc.body.paths['/v1/chats/{chatId}/attachments'].post.requestBody.content['multipart/form-data'].schema;
    expect(Object.keys(upload.properties)).toEqual(['file', 'txnId']);

    const page = await fetch(`${portal.url}/v1/docs`);
    const html = await page.text();
    expect(page.headers.get('content-type')).toContain('text/html');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.every((a) => a.startsWith('/v1/docs/assets/'))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(portal.url + asset);
      expect({ asset, status: res.status, size: (await res.arrayBuffer()).byteLength > 0 }).toEqual({ asset, status: 200, size: true });
    }
  });

  test('a caller over the rate limit gets 429 with Retry-After; other callers are not affected', async () => {
    const limited = await startPortalApi(testConfig({ RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_WINDOW_SECONDS: '60' }), { log });
    try {
      const hasty = token('customer', netA, uniqueId('hasty'));
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await callApi(limited.url, 'GET', '/v1/me/features', hasty);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last!.body.error.code).toBe('rate_limited');
      const retryAfter = Number(last!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await callApi(limited.url, 'GET', '/v1/me/features', token('customer', netA, uniqueId('calm')))).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
