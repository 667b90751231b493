import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/stack/freePort';
import { startFerretDb, type MongoHandle } from '../../scripts/stack/mongoServer';
import { startRedis, type RedisHandle } from '../../scripts/stack/redisServer';
import { startServices, type TestServices } from '../support/harness';

type Health = { status: string; components: Record<string, { status: 'up' | 'down'; latencyMs: number }> };

function states(body: Health): Record<string, string> {
  return Object.fromEntries(Object.entries(body.components).map(([k, v]) => [k, v.status]));
}

describe('GET /v1/ops/health', () => {
  let s: TestServices;
  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('operators only', async () => {
    expect((await s.api('GET', '/v1/ops/health')).status).toBe(401);
    expect((await s.api('GET', '/v1/ops/health', s.token('service', 'x', 'n'))).status).toBe(403);
  });

  test('reports every part up, with latencies, on the first call after the start', async () => {
    const res = await s.api<Health>('GET', '/v1/ops/health', s.token('operator', 'ops'));
    expect({ status: res.status, body: res.status === 200 ? null : res.body }).toEqual({ status: 200, body: null });
    expect(states(res.body)).toEqual({ synapse: 'up', appservice: 'up', mongodb: 'up', redis: 'up', queues: 'up', smtp: 'up' });
    // Each part answered within the check's own time limit (3 s), measured in whole milliseconds.
    for (const c of Object.values(res.body.components)) expect(Number.isInteger(c.latencyMs) && c.latencyMs < 3000).toBe(true);
  });

  test('the appservice is reported down when Synapse cannot reach it', async () => {
    const other = await startServices({ APPSERVICE_PORT: String(await freePort()) });
    try {
      // Synapse pushes to the registration's URL; this instance listens elsewhere, and the
      // registered listener (the first instance) is stopped.
      await s.all.appservice.stop();
      const res = await other.api<Health>('GET', '/v1/ops/health', other.token('operator', 'ops'));
      expect(res.status).toBe(503);
      expect(states(res.body)).toMatchObject({ synapse: 'up', appservice: 'down', mongodb: 'up', redis: 'up' });
    } finally {
      await other.stop();
    }
  });
});

describe('GET /v1/ops/health with parts down', () => {
  let dataDir: string;
  let mongo: MongoHandle;
  let redis: RedisHandle;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'health-'));
    [mongo, redis] = await Promise.all([startFerretDb({ dataDir, database: 'health' }), startRedis({ dataDir })]);
  });
  afterAll(async () => {
    await Promise.allSettled([mongo?.stop(), redis?.stop()]);
  });

  test('MongoDB and Redis stopped, then Synapse unreachable: each reported down', async () => {
    const s = await startServices({ MONGODB_URI: mongo.uri, REDIS_URL: redis.url, APPSERVICE_PORT: String(await freePort()) });
    try {
      const ops = s.token('operator', 'ops');
      expect(states((await s.api<Health>('GET', '/v1/ops/health', ops)).body)).toMatchObject({ mongodb: 'up', redis: 'up' });
      await Promise.all([mongo.stop(), redis.stop()]);
      const res = await s.api<Health>('GET', '/v1/ops/health', ops);
      expect(res.status).toBe(503);
      expect(states(res.body)).toMatchObject({ synapse: 'up', mongodb: 'down', redis: 'down', queues: 'down' });
    } finally {
      await s.stop();
    }
  });

  test('Synapse unreachable', async () => {
    const s = await startServices({ SYNAPSE_URL: `http://127.0.0.1:${await freePort()}`, APPSERVICE_PORT: String(await freePort()) });
    try {
      const res = await s.api<Health>('GET', '/v1/ops/health', s.token('operator', 'ops'));
      expect(res.status).toBe(503);
      expect(states(res.body)).toMatchObject({ synapse: 'down', appservice: 'down', mongodb: 'up', redis: 'up' });
    } finally {
      await s.stop();
    }
  });
});
