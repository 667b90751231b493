import { stopOnce, type Config, createRootLogger, type Logger, boundPort, closeServer, listen } from '../runtime';
import { randomUUID } from 'node:crypto';
import { parseVirtualUserId } from './matrix/virtualUsers';
import { createCore, type CoreServices } from './core';
import { createTransactionListener } from './transactionListener';
import { TransactionProcessor } from './transactionProcessor';
import { MatrixEventHandler } from './matrixEventHandler';
import { HomeserverRules } from './domain/homeserverRules';
import { LiveAnnouncements } from './domain/liveAnnouncements';
import { connectDatabase, databaseConnected, disconnectDatabase, findAdministrator, findCustomer } from '../store';
import type { Server } from 'node:http';

const START_PING_ATTEMPTS = 10;
const START_PING_INTERVAL_MS = 2000;

export interface AppserviceHandle {
  port: number;
  services: CoreServices;
  /** Asks Synapse to ping us; resolves with the round trip in ms or rejects with a clear reason. */
  ping(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the transaction listener Synapse pushes to, and the processor behind it. */
export async function startAppservice(config: Config, opts: { log?: Logger } = {}): Promise<AppserviceHandle> {
  const log = (opts.log ?? createRootLogger(config.logLevel, 'appservice')).child({ module: 'appservice' });
  await connectDatabase(config.mongodbUri);
  const services = createCore(config, log);
  const handler = new MatrixEventHandler(services.matrix, services.conversations, config.matrixDomain, log.child({ module: 'events' }), {
    attachmentCheckTimeoutMs: config.attachments.checkTimeoutMs,
  }, new LiveAnnouncements(services.live, services.conversations.history, services.readMarkers, config.matrixDomain));
  const processor = new TransactionProcessor(handler, log.child({ module: 'transactions' }));
  let listening: Server | null = null;
  const app = createTransactionListener({
    hsToken: services.registration.hsToken,
    processor,
    userExists: (userId) => provisionOnDemand(services, userId, config.matrixDomain),
    rules: new HomeserverRules(services.matrix, services.conversations, config.matrixDomain, log.child({ module: 'homeserverRules' })),
    // The registration is loaded (createCore throws otherwise); its Redis clients connect on first use.
    readiness: () => ({ mongodb: databaseConnected(), registration: services.registration.hsToken.length > 0, listener: listening?.listening === true }),
    log,
  });
  const server = await listen(app, config.appservice.host, config.appservice.port).catch(async (err) => {
    await disconnectDatabase();
    throw err;
  });
  listening = server;
  const port = boundPort(server);
  log.info({ port, url: config.appservice.url }, 'appservice listening');
  void processor.process();

  let stopped = false;
  const ping = async (): Promise<number> => {
    try {
      return await services.matrix.pingAppservice(services.registration.id, randomUUID());
    } catch (err) {
      throw new Error(
        `Synapse at ${config.synapse.url} could not reach the appservice at ${services.registration.url} ` +
          `(registration ${config.appservice.registrationPath}; listening on ${config.appservice.host}:${port}): ` +
          (err as Error).message,
      );
    }
  };
  // Self-check, retried for a while (Synapse may be starting or busy). A successful ping also makes
  // Synapse retry at once the transactions it queued while we were down, instead of after its backoff.
  void (async () => {
    for (let attempt = 1; attempt <= START_PING_ATTEMPTS && !stopped; attempt++) {
      try {
        log.info({ ms: await ping() }, 'Synapse reached the appservice (ping)');
        return;
      } catch (err) {
        if (attempt === START_PING_ATTEMPTS) log.error((err as Error).message);
        else await new Promise((r) => setTimeout(r, START_PING_INTERVAL_MS));
      }
    }
  })();

  return {
    port,
    services,
    ping,
    stop: stopOnce(async () => {
      stopped = true;
      await closeServer(server);
      await processor.stop();
      await services.live.close();
      await services.leases.close();
      await disconnectDatabase();
    }),
  };
}

/**
 * Synapse asks whether a user of our namespace exists before a Matrix client may reach it: register
 * it on the spot when the host platform knows that person, so the answer is true. The person is
 * found from the ids the Matrix id encodes, and must
 * still carry exactly this Matrix id.
 */
async function provisionOnDemand(services: CoreServices, userId: string, domain: string): Promise<boolean> {
  const ref = parseVirtualUserId(userId, domain);
  if (!ref) return false;
  const found =
    ref.kind === 'customer'
      ? await findCustomer(ref.networkId, ref.id)
      : await findAdministrator(ref.networkId, ref.id);
  const person =
    found && found.status === 'active' && found.matrixUserId === userId
      ? { kind: ref.kind, networkId: ref.networkId, id: ref.id, displayName: found.displayName }
      : null;
  if (!person) return false;
  await services.virtualUsers.ensure(person, { displayName: person.displayName });
  return true;
}
