/**
 * Duplicate keys are how the store makes writes idempotent without transactions (FerretDB 1.x has
 * none): a unique index refuses the second insert, and the writer reads the winner instead.
 */

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | undefined)?.code === 11000;
}

/** A bulk insert whose only failures are duplicate keys. */
export function isDuplicateKeyOnly(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number; err?: { code?: number } }> };
  if (e.code === 11000 && !e.writeErrors) return true;
  return Array.isArray(e.writeErrors) && e.writeErrors.length > 0 && e.writeErrors.every((w) => (w.code ?? w.err?.code) === 11000);
}
