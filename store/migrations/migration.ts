import type { Db } from 'mongodb';

/**
 * One numbered data migration (store/migrations/NNNN-name.ts). `up` works on the driver's database
 * handle, not on today's models (a migration must keep meaning the same thing when the models
 * move on), and must be idempotent: a process that dies half-way leaves it unrecorded, and the next
 * start runs it again.
 */
export interface Migration {
  /** Four digits, in the file name too; applied in ascending order. */
  id: string;
  name: string;
  up(db: Db): Promise<void>;
}
