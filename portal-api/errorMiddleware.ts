import type { Middleware } from 'koa';
import { AppError, UpstreamUnavailableError } from '../runtime';
import { MatrixError } from '../appservice';
import type { PortalState } from './requestContext';
import { isDatabaseError } from '../store';

/**
 * The one place where errors become HTTP answers: `{"error": {"code", "message"}}` with the API
 * contract's codes. Nothing internal (stack, driver message) ever reaches the caller.
 */
export function errorMiddleware(): Middleware<PortalState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: 'no such route' } };
      } else if ((ctx.status === 405 || ctx.status === 501) && (ctx.body === undefined || typeof ctx.body === 'string')) {
        // 501 is the router's answer to a method it does not know at all (TRACE, PROPFIND…): to a
        // caller that is the same as a method this route does not take.
        ctx.status = 405;
        ctx.body = { error: { code: 'method_not_allowed', message: 'method not allowed on this route' } };
      }
    } catch (raw) {
      const err = toAppError(raw);
      if (err.status >= 500) ctx.state.log?.error({ err: raw }, 'request failed');
      ctx.status = err.status;
      ctx.body = {
        error: { code: err.code, message: err.message, ...(err.details?.field ? { field: err.details.field } : {}) },
      };
      if ('retryAfterSeconds' in err && typeof err.retryAfterSeconds === 'number') {
        ctx.set('Retry-After', String(err.retryAfterSeconds));
      }
    }
  };
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDatabaseError(err)) return new UpstreamUnavailableError('mongodb');
  // Synapse's own size limits (an upload over max_upload_size, an event over 64 KiB): the caller's to fix.
  if (err instanceof MatrixError && (err.status === 413 || err.errcode === 'M_TOO_LARGE')) {
    return new AppError('payload_too_large', 413, 'the message or file is larger than the homeserver accepts');
  }
  // Synapse overloaded (still rate limiting after the client's own retries) or failing: retry later.
  if (err instanceof MatrixError && (err.status === 429 || err.status >= 500)) {
    return new UpstreamUnavailableError('synapse', Math.max(1, Math.ceil((err.retryAfterMs ?? 5000) / 1000)));
  }
  // Synapse refused a send in a room that is still read-only (chats just re-enabled, the room
  // fan-out not done yet): a short wait fixes it.
  if (err instanceof MatrixError && err.status === 403 && err.errcode === 'M_FORBIDDEN') {
    return new UpstreamUnavailableError('synapse', 2);
  }
  if (isRedisError(err)) return new UpstreamUnavailableError('redis');
  const e = err as { status?: number; expose?: boolean; type?: string };
  // @koa/bodyparser 6 reports malformed JSON as a bare SyntaxError with status 400.
  if (err instanceof SyntaxError && e.status === 400) {
    return new AppError('invalid_request', 400, 'body: the request body is not valid JSON', { field: 'body' });
  }
  // The body parser's client errors (http-errors with a `type`): bad JSON, too large, bad charset.
  if (e?.expose === true && typeof e.type === 'string' && typeof e.status === 'number' && e.status < 500) {
    if (e.status === 413) return new AppError('payload_too_large', 413, 'the request body is too large');
    if (e.status === 415) return new AppError('unsupported_media_type', 415, 'send application/json in UTF-8');
    return new AppError('invalid_request', 400, 'body: the request body is not valid JSON', { field: 'body' });
  }
  return new AppError('internal', 500, 'internal error');
}

function isRedisError(err: unknown): boolean {
  const message = (err as Error | undefined)?.message ?? '';
  return /Stream isn't writeable|enableOfflineQueue|Connection is closed|ECONNREFUSED.*6379|Reached the max retries per request/.test(message);
}
