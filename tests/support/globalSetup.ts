import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../../scripts/stack/localStack';

/**
 * One real stack for the whole run: Synapse (test profile), MongoDB/FerretDB and Redis on free
 * loopback ports, data on a temporary path (tmpfs when the machine has one). Test files start the
 * appservice, portal API and workers in-process against it (tests/support/harness.ts).
 */
export default async function globalSetup(): Promise<void> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dataDir = mkdtempSync(join(base, 'coworking-chat-test-'));
  const started = Date.now();
  const stack = await startLocalStack({ dataDir, profile: 'test' });
  Object.assign(process.env, stack.env, { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', TEST_DATA_DIR: dataDir });
  (globalThis as { __chatStack?: unknown }).__chatStack = stack;
  console.log(`\ntest stack (${stack.profile} profile) ready in ${Date.now() - started} ms: Synapse ${stack.synapse.url}${stack.postgres ? ` (PostgreSQL, a generic worker, nginx)` : ''}, MongoDB (${stack.mongo.kind}) ${stack.mongo.uri}, Redis ${stack.redis.url}, mail ${stack.mail.webUrl ?? stack.mail.smtpUrl}; service logs in ${join(dataDir, 'services.log')} (kept when a test fails)`);
}
