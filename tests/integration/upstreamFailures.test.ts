import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootLogger } from '../../runtime/logger';
import { mintToken, type Role } from '../../portal-api/auth';
import { startPortalApi, type PortalApiHandle } from '../../portal-api/start';
import { freePort } from '../../scripts/stack/freePort';
import { startFerretDb, type MongoHandle } from '../../scripts/stack/mongoServer';
import { startRedis, type RedisHandle } from '../../scripts/stack/redisServer';
import { callApi, testConfig, uniqueId } from '../support/harness';
import { ConversationModel, conversationIdForKey, pingDatabase } from '../../store';

function expectUnavailable(res: { status: number; body: any; headers: Headers; ms: number }, withinMs: number) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 503, code: 'upstream_unavailable' });
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(res.ms).toBeLessThan(withinMs);
  // The message names no host, port or driver detail.
  expect(res.body.error.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|Mongo|ioredis/);
}

/**
 * Synapse, MongoDB or Redis down: the portal answers 503 upstream_unavailable with Retry-After,
 * quickly, never a 500 or a hanging request. This file runs its own MongoDB-compatible server and
 * Redis so it can stop them, and points its portal at a Synapse port nobody listens on.
 */
describe('upstream failures', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'upstream-failures-'));
  const log = createRootLogger('silent', 'test');
  let mongo: MongoHandle;
  let redis: RedisHandle;
  let portal: PortalApiHandle;
  const net = uniqueId('net');
  let token: (role: Role, sub: string) => string;

  beforeAll(async () => {
    [mongo, redis] = await Promise.all([startFerretDb({ dataDir, database: 'upstream_failures' }), startRedis({ dataDir })]);
    const deadSynapse = `http://127.0.0.1:${await freePort()}`;
    const config = testConfig({ MONGODB_URI: mongo.uri, REDIS_URL: redis.url, SYNAPSE_URL: deadSynapse });
    portal = await startPortalApi(config, { log });
    token = (role, sub) =>
      mintToken(
        { secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience },
        { role, sub, net },
      );
    const service = token('service', 'host');
    expect((await callApi(portal.url, 'PUT', `/v1/networks/${net}`, service, { name: 'Flex Offices' })).status).toBe(200);
    for (const cid of ['alice', 'bob']) {
      const res = await callApi(portal.url, 'PUT', `/v1/networks/${net}/customers/${cid}`, service, {
        kind: 'member',
        displayName: cid,
        locationIds: [],
        hideNameOnBookings: false,
        status: 'active',
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await portal?.stop();
    await Promise.allSettled([mongo?.stop(), redis?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function timed(method: string, path: string, who: string, body?: unknown) {
    const started = Date.now();
    const res = await callApi(portal.url, method, path, token('customer', who), body);
    return { ...res, ms: Date.now() - started };
  }

  test('Synapse down: starting a chat, sending and reading history answer 503', async () => {
    expectUnavailable(await timed('POST', '/v1/chats', 'alice', { userId: 'bob' }), 5000);
    const key = `direct/${JSON.stringify([net, 'alice', 'bob-2'])}`;
    const chatId = conversationIdForKey(key);
    await ConversationModel.create({
      _id: chatId,
      networkId: net,
      kind: 'direct',
      key,
      customerIds: ['alice', 'bob'],
      startedBy: 'alice',
      roomId: '!unreachable:localhost',
      lastActivityAt: new Date(),
    });
    expectUnavailable(await timed('POST', `/v1/chats/${chatId}/messages`, 'alice', { txnId: 't1', body: 'hello?' }), 5000);
    expectUnavailable(await timed('GET', `/v1/chats/${chatId}/messages`, 'bob'), 5000);
    // What needs only MongoDB keeps working.
    expect((await timed('GET', '/v1/me/features', 'alice')).status).toBe(200);
  });

  test('MongoDB down: requests answer 503 within seconds', async () => {
    await mongo.stop();
    expectUnavailable(await timed('GET', '/v1/me/features', 'alice'), 10000);
    expectUnavailable(await timed('GET', '/v1/community', 'bob'), 10000);
  });

});

/**
 * Redis down on its own: a MongoDB of its own that stays up, so the 503 cannot come from MongoDB
 * (the file above stopped its MongoDB before this runs).
 */
describe('upstream failures: Redis down, MongoDB healthy', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'upstream-redis-down-'));
  const log = createRootLogger('silent', 'test');
  let mongo: MongoHandle;
  let redis: RedisHandle;
  let portal: PortalApiHandle;
  const net = uniqueId('net');
  let token: (role: Role, sub: string) => string;

  beforeAll(async () => {
    [mongo, redis] = await Promise.all([startFerretDb({ dataDir, database: 'upstream_redis_down' }), startRedis({ dataDir })]);
    const config = testConfig({ MONGODB_URI: mongo.uri, REDIS_URL: redis.url, SYNAPSE_URL: `http://127.0.0.1:${await freePort()}` });
    portal = await startPortalApi(config, { log });
    token = (role, sub) =>
      mintToken(
        { secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience },
        { role, sub, ...(role === 'operator' ? {} : { net }) },
      );
    expect((await callApi(portal.url, 'PUT', `/v1/networks/${net}`, token('service', 'host'), { name: 'Flex Offices' })).status).toBe(200);
  });
  afterAll(async () => {
    await portal?.stop();
    await Promise.allSettled([mongo?.stop(), redis?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('Redis down: requests answer 503 at once, while MongoDB answers', async () => {
    // The same request answers while both are up.
    expect((await callApi(portal.url, 'GET', '/v1/me/features', token('customer', 'alice'))).status).toBe(200);
    await redis.stop();
    const started = Date.now();
    const res = await callApi(portal.url, 'GET', '/v1/me/features', token('customer', 'alice'));
    expectUnavailable({ ...res, ms: Date.now() - started }, 3000);
    // MongoDB was up all along: the operator's health check (no rate limit, so no Redis) says so.
    const health = await callApi(portal.url, 'GET', '/v1/ops/health', token('operator', 'ops'));
    expect({ mongodb: health.body.components?.mongodb?.status, redis: health.body.components?.redis?.status }).toEqual({ mongodb: 'up', redis: 'down' });
    await expect(pingDatabase()).resolves.toBeUndefined();
  });
});
