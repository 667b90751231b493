import { rmSync } from 'node:fs';
import type { LocalStack } from '../../scripts/stack/localStack';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as { __chatStack?: LocalStack }).__chatStack;
  if (!stack) return;
  await stack.stop();
  // KEEP_TEST_DATA=1 keeps Synapse, FerretDB and Redis logs and data for a developer to read.
  if (process.env.KEEP_TEST_DATA !== '1') rmSync(stack.dataDir, { recursive: true, force: true });
}
