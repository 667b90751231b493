import { stopOnce, type Config, type Logger } from '../runtime';
import { startAppservice, type AppserviceHandle } from '../appservice';
import { startPortalApi, type PortalApiHandle } from '../portal-api';
import { startProvisioningWorker, type ProvisioningWorkerHandle } from '../provisioning';

export interface AllInOneHandle {
  appservice: AppserviceHandle;
  portalApi: PortalApiHandle;
  worker: ProvisioningWorkerHandle;
  stop(): Promise<void>;
}

/** The embedded default: appservice, portal API and provisioning worker in one process. */
export async function startAllInOne(config: Config, log: Logger): Promise<AllInOneHandle> {
  const appservice = await startAppservice(config, { log });
  const worker = await startProvisioningWorker(config, { log });
  const portalApi = await startPortalApi(config, { log });
  return {
    appservice,
    portalApi,
    worker,
    stop: stopOnce(async () => {
      // Stop taking requests first, then let the worker finish, then the Synapse listener.
      await portalApi.stop();
      await worker.stop();
      await appservice.stop();
    }),
  };
}
