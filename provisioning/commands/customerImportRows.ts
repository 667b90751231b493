import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The rows of a bulk customer import: each is checked on its own, so one bad row never stops the
 * others. Pure functions; the route and the CLI share them.
 */

const hostId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

/** The fields of `PUT /v1/networks/:nid/customers/:cid`, plus the customer's id. */
export const customerRowSchema = z.strictObject({
  customerId: hostId,
  kind: z.enum(['member', 'nonmember']),
  displayName: z.string().trim().min(1).max(255),
  avatarUrl: z.string().max(2048).regex(/^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/, 'an mxc:// URI').nullish(),
  locationIds: z.array(hostId).max(1000).default([]),
  hideNameOnBookings: z.boolean().default(false),
  status: z.enum(['active', 'deactivated']).default('active'),
});

export type CustomerRow = z.output<typeof customerRowSchema>;
/** A valid row with its 0-based position in the request's `customers` array. */
export type ImportRow = CustomerRow & { row: number };
export interface ImportFailure {
  row?: number;
  customerId?: string;
  reason: string;
}

export interface CheckedImport {
  valid: ImportRow[];
  invalid: ImportFailure[];
  /** Identifies the import's content: the same file posted twice is one job. */
  contentHash: string;
}

export function checkImportRows(rows: readonly unknown[]): CheckedImport {
  const valid: ImportRow[] = [];
  const invalid: ImportFailure[] = [];
  const firstRowOf = new Map<string, number>();
  rows.forEach((raw, row) => {
    const parsed = customerRowSchema.safeParse(raw);
    const customerId = typeof (raw as { customerId?: unknown })?.customerId === 'string' ? (raw as { customerId: string }).customerId : undefined;
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join('.') : 'row';
      invalid.push({ row, ...(customerId ? { customerId } : {}), reason: `${field}: ${issue.message}` });
      return;
    }
    const first = firstRowOf.get(parsed.data.customerId);
    if (first !== undefined) {
      invalid.push({ row, customerId: parsed.data.customerId, reason: `customerId: duplicate of row ${first}` });
      return;
    }
    firstRowOf.set(parsed.data.customerId, row);
    valid.push({ ...parsed.data, locationIds: [...new Set(parsed.data.locationIds)], row });
  });
  const contentHash = createHash('sha256').update(JSON.stringify([valid, invalid])).digest('hex').slice(0, 32);
  return { valid, invalid, contentHash };
}
