import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { type Logger } from '../runtime';
import type { Caller } from './auth';

export interface PortalState {
  requestId: string;
  log: Logger;
  caller?: Caller;
}

/** A request id on every response and every log line of the request (X-Request-Id honoured). */
export function requestContext(log: Logger): Middleware<PortalState> {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    ctx.state.log.info(
      { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  };
}
