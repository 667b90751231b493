/**
 * The one error hierarchy of the project. Every error a caller may see carries the API contract's
 * code and HTTP status; portal-api/errorMiddleware.ts maps them to responses in one place.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends AppError {
  constructor(readonly field: string, message: string) {
    super('invalid_request', 400, `${field}: ${message}`, { field });
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message = 'a valid bearer token is required') {
    super('unauthenticated', 401, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'this role may not do that') {
    super('forbidden', 403, message);
  }
}
export class NotFoundError extends AppError {
  constructor(what = 'resource') {
    super('not_found', 404, `${what} not found`);
  }
}
export class ChatsDisabledError extends AppError {
  constructor() {
    super('chats_disabled', 403, 'chats are disabled for this network');
  }
}
/** Visibility or privacy refused: deliberately never says which. */
export class RecipientNotReachableError extends AppError {
  constructor() {
    super('recipient_not_reachable', 403, 'this person cannot be messaged');
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super('conflict', 409, message);
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super('payload_too_large', 413, `the payload exceeds the limit of ${limit} bytes`);
  }
}
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super('unsupported_media_type', 415, message);
  }
}
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 429, 'too many requests');
  }
}
/** A caller holds as many live event streams as allowed (LIVE_MAX_STREAMS_PER_CALLER). */
export class TooManyStreamsError extends AppError {
  constructor(readonly limit: number, readonly retryAfterSeconds: number) {
    super('too_many_streams', 429, `at most ${limit} event streams may be open at once; close one first`);
  }
}
export class UpstreamUnavailableError extends AppError {
  constructor(readonly upstream: 'synapse' | 'mongodb' | 'redis' | 'appservice', readonly retryAfterSeconds = 5) {
    super('upstream_unavailable', 503, `${upstream} is unavailable; retry later`);
  }
}
