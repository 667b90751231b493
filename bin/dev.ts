/**
 * `bash scripts/start.sh`: the whole stack on the embedded defaults, with the demo network.
 * Data lives in .run/dev (delete it for a fresh start); logs too: services.log (appservice, portal
 * API, workers), Synapse, FerretDB and Redis. STACK_PROFILE=scale starts the production-like
 * profile instead (README › Deploying, "Scale-out"), in .run/scale: Synapse workers on PostgreSQL
 * behind nginx, and the appservice, two portal API processes behind nginx and two provisioning
 * workers, each its own process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, createRootLogger } from '../runtime';
import { mintToken, type Role } from '../portal-api';
import { PROJECT_ROOT } from '../scripts/stack/cacheDir';
import { startLocalStack } from '../scripts/stack/localStack';
import { DEMO_NETWORK, seedDemoNetwork } from '../scripts/stack/demoSeed';
import { startServiceFleet } from '../scripts/stack/serviceFleet';
import { startAllInOne } from './allInOne';
import { connectDatabase, disconnectDatabase, runMigrations } from '../store';

async function main(): Promise<void> {
  const scale = process.env.STACK_PROFILE === 'scale';
  const dataDir = join(PROJECT_ROOT, '.run', scale ? 'scale' : 'dev');
  const stack = await startLocalStack({
    dataDir,
    profile: 'dev',
    portalApiPort: Number(process.env.PORTAL_API_PORT ?? 8080),
  });
  // The web client's development sign-in (the demo links below); never with NODE_ENV=production.
  const devLogin = process.env.NODE_ENV === 'production' ? 'false' : (process.env.WEB_CLIENT_DEV_LOGIN ?? 'true');
  const env = { ...process.env, ...stack.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', WEB_CLIENT_DEV_LOGIN: devLogin };
  const envFile = join(dataDir, 'dev.env');
  writeFileSync(envFile, Object.entries(stack.env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  const config = loadConfig(env);
  // JSON logs to a file; the terminal keeps the links below and shows errors as they happen.
  const logPath = join(dataDir, 'services.log');
  const log = createRootLogger(config.logLevel, 'dev', { file: logPath, stderrFrom: 'error' });
  // .run/<profile> outlives a release: its data gets the pending migrations first, as bin/server.ts does.
  await connectDatabase(config.mongodbUri);
  try {
    await runMigrations({ onApplied: (m, ms) => log.info({ migration: `${m.id}-${m.name}`, ms }, 'data migration applied') });
  } finally {
    await disconnectDatabase();
  }
  const all = scale ? await startServiceFleet(stack, env as Record<string, string>) : await startAllInOne(config, log);
  const api = 'url' in all ? all.url : all.portalApi.url;
  const token = (role: Role, sub: string, net?: string) =>
    mintToken({ secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience }, { role, sub, net }, 86400);
  await seedDemoNetwork(api, token('service', 'host-platform', DEMO_NETWORK), token('admin', 'admin-1', DEMO_NETWORK));

  const open = (who: string) => `${api}/chat/?as=${encodeURIComponent(who)}`;
  const webLinks = config.webClient.devLogin
    ? `Open the chat UI (development sign-in; each link works in its own tab):
  alice (member)  ${open(`customer:alice@${DEMO_NETWORK}`)}
  bob (member)    ${open(`customer:bob@${DEMO_NETWORK}`)}
  admin-1         ${open(`admin:admin-1@${DEMO_NETWORK}`)}
`
    : `The chat UI is at ${api}/chat/ (development sign-in is off: embed it in a portal, see README).
`;
  console.log(`
Coworking chat is running.
  Portal API      ${api}   (OpenAPI: ${api}/v1/openapi.json)
  Web client      ${api}/chat/
  Synapse         ${config.synapse.url}   (server name ${config.matrixDomain}; log ${stack.synapse.logPath})
  MongoDB         ${stack.mongo.uri} (${stack.mongo.kind})
  Redis           ${stack.redis.url}
  Email (Mailpit) ${stack.mail.webUrl ?? `SMTP_URL ${stack.mail.smtpUrl}`}   (the demo's notification emails; web UI)
  Configuration   ${envFile}
  Logs            ${scale ? `${dataDir}/{appservice,portal-api-N,worker-N}.log (one per process)` : logPath}   (JSON lines at LOG_LEVEL ${config.logLevel}${scale ? '' : '; errors also show here'})
${scale ? `  Scale profile   Synapse on PostgreSQL ${stack.postgres!.host}:${stack.postgres!.port}, a generic worker, nginx in front of Synapse and of 2 API processes
` : ''}
${webLinks}
Demo network "${DEMO_NETWORK}": members alice, bob, carol (hides her name), non-member dave, admin admin-1
(emails <id>@demo.test: unread messages arrive as one email after 10 minutes, in Mailpit above).
Tokens (24 h):
  ALICE=${token('customer', 'alice', DEMO_NETWORK)}
  ADMIN=${token('admin', 'admin-1', DEMO_NETWORK)}
  OPERATOR=${token('operator', 'ops')}
More: npx tsx bin/chatctl.ts token --env-file ${envFile} --role customer --sub bob --net ${DEMO_NETWORK}

Try it:
  curl -s -H "Authorization: Bearer $ALICE" -H 'content-type: application/json' -d '{"userId":"bob"}' ${api}/v1/chats
  curl -s -H "Authorization: Bearer $ALICE" -H 'content-type: application/json' -d '{"txnId":"t1","body":"hello"}' ${api}/v1/chats/<id>/messages
  curl -s -H "Authorization: Bearer $OPERATOR" ${api}/v1/ops/health
Log in with a Matrix client: curl -s -X POST -H "Authorization: Bearer $ALICE" ${api}/v1/me/matrix-session
  gives homeserverUrl, userId and accessToken (Element: sign in with an access token, or matrix-js-sdk createClient).
Ctrl-C stops everything.
`);
  const shutdown = async () => {
    await all.stop();
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
