import { atMost, stopOnce, type Config, createRootLogger, type Logger, boundPort, closeServer, listen } from '../runtime';
import { createCore } from '../appservice';
import { createProducerConnection, waitUntilReady, MatrixAccess, ProvisioningQueue } from '../provisioning';
import { createPortalApp } from './app';
import type { PortalDeps } from './portalDeps';
import { connectDatabase, disconnectDatabase } from '../store';
import { LiveEventHub } from '../live';

export interface PortalApiHandle {
  port: number;
  url: string;
  deps: PortalDeps;
  stop(): Promise<void>;
}

export async function startPortalApi(config: Config, opts: { log?: Logger } = {}): Promise<PortalApiHandle> {
  const log = (opts.log ?? createRootLogger(config.logLevel, 'portal-api')).child({ module: 'portal-api' });
  await connectDatabase(config.mongodbUri);
  const services = createCore(config, log);
  const redis = createProducerConnection(config.redisUrl);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  await waitUntilReady(redis, config.redisUrl).catch(async (err) => {
    redis.disconnect();
    await disconnectDatabase();
    throw err;
  });
  const synapseAdmin = services.synapseAdmin;
  const matrixAccess = new MatrixAccess(services.matrix, synapseAdmin, log.child({ module: 'matrixAccess' }));
  const liveHub = new LiveEventHub(config.redisUrl, log.child({ module: 'liveEventHub' }), {
    heartbeatMs: config.live.heartbeatMs,
    maxStreamsPerRecipient: config.live.maxStreamsPerCaller,
  });
  const deps: PortalDeps = { services, queue: new ProvisioningQueue(redis), redis, liveHub, matrixAccess, synapseAdmin };
  const app = createPortalApp(deps, log);
  const server = await liveHub
    .start()
    .then(() => listen(app, config.portalApi.host, config.portalApi.port))
    .catch(async (err) => {
      await liveHub.stop();
      redis.disconnect();
      await disconnectDatabase();
      throw err;
    });
  const port = boundPort(server);
  const url = `http://${config.portalApi.host}:${port}`;
  log.info({ url }, 'portal API listening');
  return {
    port,
    url,
    deps,
    stop: stopOnce(async () => {
      // Open streams end first (their clients reconnect elsewhere), so the server can close.
      await liveHub.stop();
      await closeServer(server);
      await services.live.close();
      await services.leases.close();
      await atMost(deps.queue.close(), 1000);
      redis.disconnect();
      await disconnectDatabase();
    }),
  };
}
