import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateRegistration, writeRegistration } from '../../appservice';
import { startSynapse, type SynapseHandle } from '../../synapse/synapseServer';
import { freePort } from './freePort';
import { startMongo, type MongoHandle } from './mongoServer';
import { startRedis, type RedisHandle } from './redisServer';
import { startMailpit, type MailpitHandle } from './mailpitServer';
import { startPostgres, type PostgresHandle } from './postgresServer';
import { startNginx, type NginxHandle } from './nginxServer';

/**
 * STACK_PROFILE: `dev` (the default) runs Synapse as one process on SQLite; `scale` runs the
 * production-like profile (README › Deploying, "Scale-out"): Synapse on PostgreSQL with a generic
 * worker, Redis replication and nginx in front, and nginx balancing the portal API processes.
 */
export type StackProfile = 'dev' | 'scale';

export function stackProfileFromEnv(env: NodeJS.ProcessEnv = process.env): StackProfile {
  const value = env.STACK_PROFILE || 'dev';
  if (value !== 'dev' && value !== 'scale') throw new Error(`STACK_PROFILE must be dev or scale, got ${JSON.stringify(value)}`);
  return value;
}

/** How many portal API processes nginx balances in the scale profile. */
export const SCALE_PORTAL_API_PROCESSES = 2;
/** How many provisioning workers the scale profile runs. */
export const SCALE_PROVISIONING_WORKERS = 2;

export interface LocalStack {
  dataDir: string;
  /** Environment for loadConfig(): every key the processes need. */
  env: Record<string, string>;
  synapse: SynapseHandle;
  mongo: MongoHandle;
  redis: RedisHandle;
  mail: MailpitHandle;
  profile: StackProfile;
  /** Scale profile only: Synapse's database. */
  postgres?: PostgresHandle;
  /** Scale profile only: the front of Synapse and of the portal API processes. */
  nginx?: NginxHandle;
  /**
   * Scale profile only: nginx's portal API front (`url`, the address clients use) and the ports of
   * the API processes behind it (each process gets one as PORTAL_API_PORT; env has the first).
   */
  portalApi?: { url: string; backendPorts: number[] };
  stop(): Promise<void>;
}

/**
 * The infrastructure of one run on loopback: MongoDB (or FerretDB), Redis, Mailpit (or SMTP_URL)
 * and Synapse with a
 * freshly generated appservice registration. Ports are picked free, so runs do not collide.
 * The appservice, portal API and workers are started by the caller, in-process or not.
 */
export async function startLocalStack(opts: {
  dataDir: string;
  profile: 'dev' | 'test';
  /** Default: STACK_PROFILE. */
  stackProfile?: StackProfile;
  serverName?: string;
  appservicePort?: number;
  portalApiPort?: number;
}): Promise<LocalStack> {
  mkdirSync(opts.dataDir, { recursive: true });
  const stackProfile = opts.stackProfile ?? stackProfileFromEnv();
  if (stackProfile === 'scale') return startScaleStack({ ...opts, serverName: opts.serverName ?? 'localhost' });
  const serverName = opts.serverName ?? 'localhost';
  const [appservicePort, synapsePort, portalApiPort] = await Promise.all([
    opts.appservicePort ?? freePort(),
    freePort(),
    opts.portalApiPort ?? freePort(),
  ]);
  const registrationPath = join(opts.dataDir, 'registration.yaml');
  const appserviceUrl = `http://127.0.0.1:${appservicePort}`;
  writeRegistration(registrationPath, generateRegistration({ url: appserviceUrl, domain: serverName }));

  const [mongo, redis, mail] = await Promise.all([
    startMongo({ dataDir: opts.dataDir, database: 'coworking_chat', externalUri: process.env.MONGODB_URI }),
    startRedis({ dataDir: opts.dataDir, externalUrl: process.env.REDIS_URL }),
    startMailpit({ dataDir: opts.dataDir, externalSmtpUrl: process.env.SMTP_URL }),
  ]);
  const synapse = await startSynapse({ dataDir: join(opts.dataDir, 'synapse'), port: synapsePort, serverName, registrationPath, profile: opts.profile });
  return {
    dataDir: opts.dataDir,
    env: serviceEnv({ profile: opts.profile, portalApiPort, appservicePort, registrationPath, synapse, mongo, redis, mail, serverName, webClientUrl: `http://127.0.0.1:${portalApiPort}` }),
    synapse,
    mongo,
    redis,
    mail,
    profile: 'dev',
    async stop() {
      await Promise.allSettled([synapse.stop(), redis.stop(), mongo.stop(), mail.stop()]);
    },
  };
}

/**
 * The scale profile: the same MongoDB, Redis and Mailpit, and Synapse on PostgreSQL in worker mode
 * behind nginx; nginx also fronts SCALE_PORTAL_API_PROCESSES portal API ports (the caller starts
 * the processes: scripts/stack/serviceFleet.ts, chaos, or nothing in the in-process tests).
 */
async function startScaleStack(opts: { dataDir: string; profile: 'dev' | 'test'; serverName: string; appservicePort?: number; portalApiPort?: number }): Promise<LocalStack> {
  const { serverName } = opts;
  const ports = await distinctFreePorts(6 + SCALE_PORTAL_API_PROCESSES);
  const appservicePort = opts.appservicePort ?? ports[0]!;
  const portalApiPort = opts.portalApiPort ?? ports[1]!;
  const [synapsePort, mainPort, replicationPort, workerPort] = ports.slice(2, 6) as [number, number, number, number];
  const backendPorts = ports.slice(6);
  const registrationPath = join(opts.dataDir, 'registration.yaml');
  const appserviceUrl = `http://127.0.0.1:${appservicePort}`;
  writeRegistration(registrationPath, generateRegistration({ url: appserviceUrl, domain: serverName }));
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    // Reverse order: Synapse before PostgreSQL and Redis, nginx last.
    for (const s of [...started].reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const [mongo, redis, mail, postgres, nginx] = await Promise.all([
      startMongo({ dataDir: opts.dataDir, database: 'coworking_chat', externalUri: process.env.MONGODB_URI }).then((h) => (started.push(h), h)),
      startRedis({ dataDir: opts.dataDir, externalUrl: process.env.REDIS_URL }).then((h) => (started.push(h), h)),
      startMailpit({ dataDir: opts.dataDir, externalSmtpUrl: process.env.SMTP_URL }).then((h) => (started.push(h), h)),
      startPostgres({ dataDir: opts.dataDir, database: 'synapse' }).then((h) => (started.push(h), h)),
      startNginx({
        dataDir: opts.dataDir,
        synapse: { port: synapsePort, mainPort, workerPorts: [workerPort] },
        portalApi: { port: portalApiPort, backendPorts },
        maxBodySize: '100M',
      }).then((h) => (started.push(h), h)),
    ]);
    const synapse = await startSynapse({
      dataDir: join(opts.dataDir, 'synapse'),
      port: synapsePort,
      serverName,
      registrationPath,
      profile: opts.profile,
      workers: { database: postgres, redisUrl: redis.url, mainPort, replicationPort, workerPort },
    });
    started.push(synapse);
    const portalUrl = `http://127.0.0.1:${portalApiPort}`;
    return {
      dataDir: opts.dataDir,
      env: serviceEnv({ profile: opts.profile, portalApiPort: backendPorts[0]!, appservicePort, registrationPath, synapse, mongo, redis, mail, serverName, webClientUrl: portalUrl }),
      synapse,
      mongo,
      redis,
      mail,
      profile: 'scale',
      postgres,
      nginx,
      portalApi: { url: portalUrl, backendPorts },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

function serviceEnv(s: {
  profile: 'dev' | 'test';
  portalApiPort: number;
  appservicePort: number;
  registrationPath: string;
  synapse: SynapseHandle;
  mongo: MongoHandle;
  redis: RedisHandle;
  mail: MailpitHandle;
  serverName: string;
  webClientUrl: string;
}): Record<string, string> {
  const { portalApiPort, appservicePort, registrationPath, synapse, mongo, redis, mail, serverName } = s;
  const appserviceUrl = `http://127.0.0.1:${appservicePort}`;
  return {
    NODE_ENV: s.profile === 'test' ? 'test' : 'development',
    PORTAL_JWT_ALGORITHM: 'HS256',
    PORTAL_JWT_SECRET: randomBytes(32).toString('base64url'),
    PORTAL_JWT_ISSUER: 'host-platform.local',
    PORTAL_JWT_AUDIENCE: 'coworking-chat',
    PORTAL_API_HOST: '127.0.0.1',
    PORTAL_API_PORT: String(portalApiPort),
    APPSERVICE_HOST: '127.0.0.1',
    APPSERVICE_PORT: String(appservicePort),
    APPSERVICE_URL: appserviceUrl,
    // Any free port: several workers and processes of one run share the machine.
    WORKER_HTTP_PORT: '0',
    METRICS_PORT: '0',
    REGISTRATION_PATH: registrationPath,
    SYNAPSE_URL: synapse.url,
    MATRIX_DOMAIN: serverName,
    MONGODB_URI: mongo.uri,
    REDIS_URL: redis.url,
    // Lets deprovisioning create its Synapse admin user (provisioning/synapseAdminApi.ts).
    SYNAPSE_REGISTRATION_SHARED_SECRET_PATH: synapse.registrationSharedSecretPath,
    // Email notifications (README "Notifications"): Mailpit unless SMTP_URL is set.
    SMTP_URL: mail.smtpUrl,
    // The embedded Mailpit also answers whether it took a message (provisioning/jobs/smtpDeliveryLookup.ts).
    ...(mail.webUrl ? { MAILPIT_URL: mail.webUrl, SMTP_DELIVERY_LOOKUP_URL: `mailpit+${mail.webUrl}` } : {}),
    EMAIL_FROM: process.env.EMAIL_FROM ?? 'Coworking chat <notifications@localhost>',
    EMAIL_LINK_SECRET: randomBytes(32).toString('base64url'),
    WEB_CLIENT_URL: process.env.WEB_CLIENT_URL ?? s.webClientUrl,
  };
}
