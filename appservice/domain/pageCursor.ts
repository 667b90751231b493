import { InvalidRequestError } from '../../runtime';

/**
 * Opaque cursors of keyset pagination: the sort key of the last item of a page, so the next page
 * is an indexed range query ("after this key"), never an offset.
 */
export type CursorPart = 'string' | 'number';

export function encodeCursor(parts: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor<T extends readonly CursorPart[]>(
  cursor: string,
  shape: T,
): { [K in keyof T]: T[K] extends 'number' ? number : string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === shape.length && value.every((v, i) => typeof v === shape[i])) {
      return value as { [K in keyof T]: T[K] extends 'number' ? number : string };
    }
  } catch {
    /* falls through to the 400 below */
  }
  throw new InvalidRequestError('cursor', 'not a cursor from a previous page');
}
