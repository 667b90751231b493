import { AppError, NotFoundError } from '../../runtime';
import { networkExists } from '../../store';
import type { ProvisioningQueue } from '../provisioningQueue';
import { checkImportRows } from './customerImportRows';

/**
 * A bulk import as one queued job: the rows are checked here (invalid ones are reported with their
 * reasons by the job's status), the valid ones are written and provisioned by the job's batches.
 */
export async function importCustomers(
  queue: ProvisioningQueue,
  networkId: string,
  rows: readonly unknown[],
  maxRows: number,
): Promise<{ jobId: string; total: number; valid: number; invalid: number }> {
  if (rows.length > maxRows) throw new AppError('payload_too_large', 413, `an import holds at most ${maxRows} customers; split the file`);
  if (!(await networkExists(networkId))) throw new NotFoundError('network');
  const checked = checkImportRows(rows);
  const jobId = await queue.importCustomers(networkId, checked.contentHash, checked.valid, checked.invalid);
  return { jobId, total: rows.length, valid: checked.valid.length, invalid: checked.invalid.length };
}
