import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import { bodyParser } from '@koa/bodyparser';
import type { Queue } from 'bullmq';
import type { Middleware } from 'koa';
import { type Config, ForbiddenError } from '../../runtime';
import { verifyBearer } from '../auth';

export const DASHBOARD_PATH = '/v1/ops/queues/dashboard';
const LOGIN_PATH = `${DASHBOARD_PATH}/login`;
const COOKIE = 'chat_ops_dashboard';

/**
 * The queue dashboard (bull-board) for operators. API calls send the operator's bearer token; a
 * browser signs in once on the login page, which keeps the token in an HttpOnly, SameSite=Strict
 * cookie valid for the dashboard's path only, and no longer than the token itself.
 */
export function queueDashboard(queues: Queue[], jwt: Config['jwt']): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  const board = serverAdapter.registerPlugin() as unknown as Middleware;
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  const operatorFrom = (token: string | undefined) => {
    const caller = verifyBearer(token ? `Bearer ${token}` : undefined, jwt);
    if (caller.role !== 'operator') throw new ForbiddenError('the queue dashboard is for operators');
    return caller;
  };

  return async (ctx, next) => {
    if (ctx.path !== DASHBOARD_PATH && !ctx.path.startsWith(`${DASHBOARD_PATH}/`)) return next();
    if (ctx.path === LOGIN_PATH) {
      if (ctx.method === 'GET') {
        ctx.type = 'html';
        ctx.body = LOGIN_PAGE;
        return;
      }
      if (ctx.method === 'POST') {
        await parseForm(ctx, async () => undefined);
        const token = String((ctx.request as { body?: Record<string, unknown> }).body?.token ?? '').trim();
        operatorFrom(token);
        const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
        ctx.cookies.set(COOKIE, token, {
          httpOnly: true,
          sameSite: 'strict',
          path: DASHBOARD_PATH,
          maxAge: Math.max(0, exp * 1000 - Date.now()),
          overwrite: true,
        });
        ctx.redirect(`${DASHBOARD_PATH}/`);
        ctx.status = 303;
        return;
      }
    }
    const header = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1];
    const token = header ?? ctx.cookies.get(COOKIE);
    if (!token && ctx.method === 'GET' && ctx.accepts('html', 'json') === 'html') {
      ctx.redirect(LOGIN_PATH);
      return;
    }
    operatorFrom(token);
    return board(ctx, next);
  };
}

const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Queue dashboard: sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto}textarea{width:100%;height:8rem}</style></head>
<body><h1>Provisioning queues</h1>
<p>Paste an operator token (<code>chatctl token --role operator --sub you</code> in development, or one issued by the host platform).</p>
<form method="post" action="${LOGIN_PATH}"><textarea name="token" required></textarea><p><button type="submit">Open the dashboard</button></p></form>
</body></html>`;
