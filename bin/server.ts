/**
 * Production entry: every process role from one environment. `node bin/server.ts [all|appservice|portal-api|worker]`
 * (through tsx). Configuration: README "Configuration".
 */
import { ConfigError, loadConfig, createRootLogger } from '../runtime';
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
  const handle = await starters[role as keyof typeof starters]();
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      handle.stop().then(
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
