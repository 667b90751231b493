import { MatrixError } from '../../appservice/matrix/matrixApi';
import { InvalidRequestError } from '../../runtime/errors';
import { toAppError } from '../../portal-api/errorMiddleware';

/** How failures reach callers: the contract's codes, a Retry-After where retrying helps, no internals. */
describe('error mapping', () => {
  test('Synapse still rate limiting after retries → 503 with its retry hint', () => {
    const err = toAppError(new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too Many Requests', 12000));
    expect({ code: err.code, status: err.status, retryAfter: (err as { retryAfterSeconds?: number }).retryAfterSeconds }).toEqual({
      code: 'upstream_unavailable',
      status: 503,
      retryAfter: 12,
    });
  });

  test('a failing Synapse → 503', () => {
    expect(toAppError(new MatrixError(500, 'M_UNKNOWN', 'Internal server error')).code).toBe('upstream_unavailable');
  });

  test("over Synapse's size limits (an upload over max_upload_size) → 413, not 500", () => {
    expect(toAppError(new MatrixError(413, 'M_TOO_LARGE', 'Upload request body is too large'))).toMatchObject({ code: 'payload_too_large', status: 413 });
  });

  test('a MongoDB outage → 503', () => {
    const err = Object.assign(new Error('connection refused'), { name: 'MongoServerSelectionError' });
    expect(toAppError(err)).toMatchObject({ code: 'upstream_unavailable', status: 503 });
  });

  test('malformed JSON → 400 naming the body', () => {
    const err = Object.assign(new SyntaxError('Unexpected end of JSON input'), { status: 400 });
    expect(toAppError(err)).toMatchObject({ code: 'invalid_request', status: 400, details: { field: 'body' } });
  });

  test('errors of the contract pass through unchanged', () => {
    const err = new InvalidRequestError('txnId', 'required');
    expect(toAppError(err)).toBe(err);
  });

  test('anything else → 500 without its message', () => {
    const err = toAppError(new Error('ECONNRESET at 10.0.0.7:27017 (driver internals)'));
    expect({ code: err.code, status: err.status, message: err.message }).toEqual({ code: 'internal', status: 500, message: 'internal error' });
  });
});
