/**
 * Production entry: every process role from one environment. `node dist/bin/server.js
 * [all|appservice|portal-api|worker]` after `npm run build` (or `tsx bin/server.ts` from the
 * sources). Configuration: README "Configuration" and .env.example; deployment: README "Deploying".
 */
import { ConfigError, loadConfig, createRootLogger, startOpsListener, stopOnce } from '../runtime';
import { connectDatabase, disconnectDatabase, runMigrations } from '../store';
import { startAppservice } from '../appservice';
import { startPortalApi } from '../portal-api';
import { startProvisioningWorker } from '../provisioning';
import { startAllInOne } from './allInOne';

async function main(): Promise<void> {
  const role = process.argv[2] ?? 'all';
  const config = loadConfig();
  const log = createRootLogger(config.logLevel, role);
  const starters = {
    all: () => startAllInOne(config, log),
    appservice: () => startAppservice(config, { log }),
    'portal-api': () => startPortalApi(config, { log }),
    worker: () => startProvisioningWorker(config, { log }),
  } as const;
  if (!(role in starters)) throw new Error(`unknown role ${role}: use all, appservice, portal-api or worker`);
  // Pending data migrations first (store/migrations/): one process applies them under a lease,
  // the others wait for it, so no role runs on data older than its code expects.
  // The connection taken here is handed on to the roles (it is reference-counted: store/database.ts).
  await connectDatabase(config.mongodbUri);
  let roles: Awaited<ReturnType<(typeof starters)[keyof typeof starters]>>;
  try {
    const applied = await runMigrations({ onApplied: (m, ms) => log.info({ migration: `${m.id}-${m.name}`, ms }, 'data migration applied') });
    if (applied.length === 0) log.debug('data migrations: none pending');
    roles = await starters[role as keyof typeof starters]();
  } finally {
    await disconnectDatabase();
  }
  // Prometheus metrics of this process (all the roles it runs) on a listener of their own.
  const metrics = await startOpsListener({ host: config.metrics.host, port: config.metrics.port, metrics: true }).catch(async (err) => {
    await roles.stop();
    throw err;
  });
  log.info({ port: metrics.port }, 'metrics listening');
  const stop = stopOnce(async () => {
    await roles.stop();
    await metrics.stop();
  });
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err) => {
  // A bad configuration names its key; anything else is printed whole.
  console.error(err instanceof ConfigError ? `fatal: ${err.message}` : err);
  process.exit(1);
});
