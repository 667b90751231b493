import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateRegistration, writeRegistration } from '../../appservice';
import { startSynapse, type SynapseHandle } from '../../synapse/synapseServer';
import { freePort } from './freePort';
import { startMongo, type MongoHandle } from './mongoServer';
import { startRedis, type RedisHandle } from './redisServer';
import { startMailpit, type MailpitHandle } from './mailpitServer';

export interface LocalStack {
  dataDir: string;
  /** Environment for loadConfig(): every key the processes need. */
  env: Record<string, string>;
  synapse: SynapseHandle;
  mongo: MongoHandle;
  redis: RedisHandle;
  mail: MailpitHandle;
  stop(): Promise<void>;
}

/**
 * The infrastructure of one run on loopback: MongoDB (or FerretDB), Redis, Mailpit (or SMTP_URL)
 * and Synapse with a
 * freshly generated appservice registration. Ports are picked free, so runs do not collide.
 * The appservice, portal API and workers are started by the caller, in-process or not.
 */
export async function startLocalStack(opts: { dataDir: string; profile: 'dev' | 'test'; serverName?: string; appservicePort?: number; portalApiPort?: number }): Promise<LocalStack> {
  mkdirSync(opts.dataDir, { recursive: true });
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
  const env: Record<string, string> = {
    NODE_ENV: opts.profile === 'test' ? 'test' : 'development',
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
    ...(mail.webUrl ? { MAILPIT_URL: mail.webUrl } : {}),
    EMAIL_FROM: process.env.EMAIL_FROM ?? 'Coworking chat <notifications@localhost>',
    EMAIL_LINK_SECRET: randomBytes(32).toString('base64url'),
    WEB_CLIENT_URL: process.env.WEB_CLIENT_URL ?? `http://127.0.0.1:${portalApiPort}`,
  };
  return {
    dataDir: opts.dataDir,
    env,
    synapse,
    mongo,
    redis,
    mail,
    async stop() {
      await Promise.allSettled([synapse.stop(), redis.stop(), mongo.stop(), mail.stop()]);
    },
  };
}
