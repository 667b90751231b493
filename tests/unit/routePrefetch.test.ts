import Koa from 'koa';
import Router from '@koa/router';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { mintToken, type Caller } from '../../portal-api/auth';
import { defineRoute, registerRoutes } from '../../portal-api/routeTable';
import { RateLimitedError, NotFoundError } from '../../runtime';

/**
 * The route table's prefetch: started beside the limiter and the status check with the request's
 * parsed path and query, never for a caller the limiter refused lately, and its reads never
 * answer a request the checks refuse.
 */
describe('route prefetch', () => {
  const jwt = { key: 'unit-test-secret-unit-test-secret', algorithm: 'HS256' as const, issuer: 'unit', audience: 'unit' };
  const token = (sub: string) => mintToken({ secretOrPrivateKey: jwt.key, algorithm: 'HS256', issuer: 'unit', audience: 'unit' }, { sub, role: 'customer', net: 'n1' });
  const prefetched: Array<{ sub: string; input: unknown }> = [];
  const refused = new Set<string>();
  const inactive = new Set<string>();
  let server: ReturnType<Koa['listen']>;
  let base: string;

  beforeAll(async () => {
    const rateLimit = Object.assign(async (caller: Caller) => {
      if (refused.has(caller.sub)) throw new RateLimitedError(1);
    }, { refusedLately: (caller: Caller) => refused.has(caller.sub) });
    const router = new Router();
    registerRoutes(
      router,
      [
        defineRoute({
          method: 'get',
          path: '/things/:id',
          operationId: 'getThing',
          tag: 'chats',
          summary: 'a thing',
          roles: ['customer'],
          params: z.object({ id: z.string().regex(/^t\d+$/) }),
          query: z.object({ limit: z.coerce.number().int().min(1).max(10).default(5) }),
          response: z.object({ id: z.string() }),
          prefetch: (caller, input) => void prefetched.push({ sub: caller.sub, input }),
          handler: async ({ params }) => ({ id: params.id }),
        }),
      ],
      {
        jwt,
        rateLimit,
        callerStatus: async (caller) => {
          if (inactive.has(caller.sub)) throw new NotFoundError('customer');
        },
      },
    );
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = (err as { status?: number }).status ?? 500;
        ctx.body = { error: (err as Error).name };
      }
    });
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    prefetched.length = 0;
  });

  const get = (path: string, sub: string) => fetch(base + path, { headers: { authorization: `Bearer ${token(sub)}` } });

  test('gets the parsed path and query of a valid request', async () => {
    expect((await get('/things/t1?limit=3', 'ann')).status).toBe(200);
    expect(prefetched).toEqual([{ sub: 'ann', input: { params: { id: 't1' }, query: { limit: 3 } } }]);
  });

  test('gets null for an invalid path or query (the handler is never reached)', async () => {
    expect((await get('/things/x1', 'ann')).status).toBe(400);
    expect((await get('/things/t1?limit=99', 'ann')).status).toBe(400);
    expect(prefetched).toEqual([
      { sub: 'ann', input: null },
      { sub: 'ann', input: null },
    ]);
  });

  test('is not started for a caller the limiter refused lately, who still gets 429', async () => {
    refused.add('bob');
    expect((await get('/things/t1', 'bob')).status).toBe(429);
    expect(prefetched).toEqual([]);
    refused.delete('bob');
  });

  test('a refused status check answers its error whatever the prefetch started', async () => {
    inactive.add('cy');
    expect((await get('/things/t1', 'cy')).status).toBe(404);
    expect(prefetched).toHaveLength(1);
    inactive.delete('cy');
  });
});
