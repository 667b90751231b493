import { MatrixError } from '../../appservice';

/**
 * Synapse refusing the request itself (4xx other than rate limiting) will refuse it again: such a
 * job fails at once with Synapse's reason instead of being retried for minutes. Everything else
 * (Synapse, MongoDB or Redis away, timeouts) is retried with backoff.
 */
export function isPermanentMatrixError(err: unknown): err is MatrixError {
  return err instanceof MatrixError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

export function matrixErrorReason(err: MatrixError): string {
  return `Synapse refused: ${err.message}`;
}
