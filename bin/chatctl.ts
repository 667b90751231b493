/**
 * chatctl: the operator's and developer's command line.
 *   chatctl token --role customer --sub alice --net demo   mint a dev token (never over HTTP)
 *   chatctl registration generate --url ... --domain ...   write a fresh registration.yaml
 *   chatctl chats <networkId> on|off                       the network's chats toggle, rooms included
 *   chatctl deactivate <networkId> <customerId> [--erase]  deprovision a customer
 *   chatctl import <networkId> <file.json>                 bulk import ({"customers": [...]})
 *   chatctl queues                                         counts per queue and state, failed jobs
 *   chatctl retry [--queue provisioning] [--job <id>...]   retry failed jobs
 *   chatctl health                                         Synapse, appservice, MongoDB, Redis
 *   chatctl migrate [--status]                             apply pending data migrations (or list them)
 * Configuration comes from the environment, or from --env-file (the dev stack writes .run/dev/dev.env).
 * Long operations show a progress bar until their job ends (--no-wait prints the job id only).
 */
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { SingleBar, Presets } from 'cli-progress';
import { Argument, Command, Option } from 'commander';
import { loadConfig, type Config, createRootLogger } from '../runtime';
import { createCore, generateRegistration, writeRegistration } from '../appservice';
import { checkHealth, mintToken, ROLES, type Role } from '../portal-api';
import { toggleChats, deprovisionCustomer, importCustomers, describeJob, describeQueue, retryFailedJobs, type JobView, NOTIFICATION_DELIVERY_QUEUE, ProvisioningQueue, createProducerConnection, waitUntilReady } from '../provisioning';
import { connectDatabase, disconnectDatabase, migrationStatus, runMigrations } from '../store';

function envFrom(file?: string): NodeJS.ProcessEnv {
  if (!file) return process.env;
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return { ...process.env, ...vars };
}

const program = new Command('chatctl').description('Coworking chat on Matrix: operator and developer tools');

program
  .command('token')
  .description('mint a portal API token for local development (HS* algorithms only)')
  .addOption(new Option('--role <role>', 'caller role').choices(ROLES as string[]).makeOptionMandatory())
  .requiredOption('--sub <id>', "the caller's host platform id")
  .option('--net <networkId>', 'network id (all roles but operator)')
  .option('--ttl <seconds>', 'lifetime in seconds', '86400')
  .option('--env-file <path>', 'read configuration from this file')
  .action((opts: { role: Role; sub: string; net?: string; ttl: string; envFile?: string }) => {
    const env = envFrom(opts.envFile);
    if (env.NODE_ENV === 'production') throw new Error('token minting is for development only');
    const config = loadConfig(env);
    if (!config.jwt.algorithm.startsWith('HS')) throw new Error('tokens for RS/ES algorithms are minted by the host platform');
    if (opts.role !== 'operator' && !opts.net) throw new Error('--net is required for this role');
    console.log(
      mintToken(
        { secretOrPrivateKey: config.jwt.key, algorithm: config.jwt.algorithm, issuer: config.jwt.issuer, audience: config.jwt.audience },
        { role: opts.role, sub: opts.sub, net: opts.net },
        Number(opts.ttl),
      ),
    );
  });

program
  .command('registration')
  .description('appservice registration')
  .command('generate')
  .description('write a registration.yaml with fresh random tokens')
  .requiredOption('--url <url>', 'where Synapse reaches the appservice, e.g. http://127.0.0.1:9000')
  .requiredOption('--domain <serverName>', "Synapse's server_name")
  .option('--out <path>', 'output file', 'registration.yaml')
  .action((opts: { url: string; domain: string; out: string }) => {
    writeRegistration(opts.out, generateRegistration({ url: opts.url, domain: opts.domain }));
    console.log(`wrote ${opts.out}; add it to Synapse's app_service_config_files and restart Synapse`);
  });

/** MongoDB, Redis and the queues, for the operator commands; closed again when `run` ends. */
async function withOperatorContext<T>(
  envFile: string | undefined,
  run: (ctx: { config: Config; queue: ProvisioningQueue; queues: Queue[]; deps: Parameters<typeof checkHealth>[0] }) => Promise<T>,
): Promise<T> {
  const config = loadConfig(envFrom(envFile));
  const log = createRootLogger('warn', 'chatctl');
  await connectDatabase(config.mongodbUri);
  const redis = createProducerConnection(config.redisUrl);
  redis.on('error', () => undefined);
  try {
    await waitUntilReady(redis, config.redisUrl);
    const queue = new ProvisioningQueue(redis);
    const notifications = new Queue(NOTIFICATION_DELIVERY_QUEUE, { connection: redis });
    notifications.on('error', () => undefined);
    const queues = [queue.queue as Queue, notifications];
    const services = createCore(config, log);
    try {
      return await run({ config, queue, queues, deps: { services, queue, redis } });
    } finally {
      await Promise.all(queues.map((q) => q.close()));
      await services.live.close();
      await services.leases.close();
    }
  } finally {
    redis.disconnect();
    await disconnectDatabase();
  }
}

/** Follows a job with a progress bar until it ends; prints its result and failures. */
async function follow(queue: ProvisioningQueue, jobId: string, wait: boolean): Promise<void> {
  console.log(`job ${jobId}`);
  if (!wait) return;
  // Also when piped (operators' logs, CI): one line per second instead of a redrawn bar.
  const bar = new SingleBar({ format: ' {bar} {percentage}% | {state}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000 }, Presets.shades_classic);
  bar.start(100, 0, { state: 'queued' });
  let view: JobView;
  for (;;) {
    const job = await queue.getJob(jobId);
    if (!job) throw new Error(`job ${jobId} no longer exists`);
    view = await describeJob(job, queue.queue);
    bar.update(view.progress, { state: view.state });
    if (view.state === 'completed' || view.state === 'failed') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  bar.stop();
  if (view.state === 'failed') throw new Error(`job failed: ${view.failedReason}`);
  console.log(JSON.stringify(view.result, null, 2));
  for (const f of view.failures) console.log(`  row ${f.row ?? '-'} ${f.customerId ?? ''}: ${f.reason}`);
}

program
  .command('chats')
  .description("turn a network's chats on or off: the portal at once, every Matrix room through a job")
  .argument('<networkId>')
  .addArgument(new Argument('<state>').choices(['on', 'off']))
  .option('--no-wait', 'print the job id and return')
  .option('--env-file <path>', 'read configuration from this file')
  .action((networkId: string, state: 'on' | 'off', opts: { wait: boolean; envFile?: string }) =>
    withOperatorContext(opts.envFile, async ({ queue, deps: { services } }) => {
      await follow(queue, (await toggleChats(queue, services.live, networkId, state === 'on')).jobId, opts.wait);
    }),
  );

program
  .command('deactivate')
  .description("deprovision a customer: close their Matrix account; --erase also redacts their messages and erases the profile")
  .argument('<networkId>')
  .argument('<customerId>')
  .option('--erase', 'redact their messages and erase their profile')
  .option('--no-wait', 'print the job id and return')
  .option('--env-file <path>', 'read configuration from this file')
  .action((networkId: string, customerId: string, opts: { erase?: boolean; wait: boolean; envFile?: string }) =>
    withOperatorContext(opts.envFile, async ({ queue, deps: { services } }) => {
      await follow(queue, await deprovisionCustomer(queue, services.live, networkId, customerId, Boolean(opts.erase)), opts.wait);
    }),
  );

program
  .command('import')
  .description('bulk import customers from a JSON file ({"customers": [...]}, the API\'s import body)')
  .argument('<networkId>')
  .argument('<file>')
  .option('--no-wait', 'print the job id and return')
  .option('--env-file <path>', 'read configuration from this file')
  .action((networkId: string, file: string, opts: { wait: boolean; envFile?: string }) =>
    withOperatorContext(opts.envFile, async ({ config, queue }) => {
      const body = JSON.parse(readFileSync(file, 'utf8')) as { customers?: unknown[] };
      if (!Array.isArray(body.customers)) throw new Error(`${file} has no "customers" array`);
      const started = await importCustomers(queue, networkId, body.customers, config.customerImport.maxRows);
      console.log(`${started.valid} valid rows, ${started.invalid} invalid`);
      await follow(queue, started.jobId, opts.wait);
    }),
  );

program
  .command('queues')
  .description('counts per queue and state, and the latest failed jobs with their reasons')
  .option('--env-file <path>', 'read configuration from this file')
  .action((opts: { envFile?: string }) =>
    withOperatorContext(opts.envFile, async ({ queues }) => {
      for (const queue of queues) {
        const view = await describeQueue(queue, 20);
        console.log(`\n${view.name}`);
        console.table(view.counts);
        for (const f of view.failed) console.log(`  failed ${f.id} (${f.attemptsMade} attempts): ${f.failedReason}`);
      }
    }),
  );

program
  .command('retry')
  .description('retry failed jobs: all of a queue, or the given ids')
  .option('--queue <name>', 'queue name', 'provisioning')
  .option('--job <jobId...>', 'only these jobs')
  .option('--env-file <path>', 'read configuration from this file')
  .action((opts: { queue: string; job?: string[]; envFile?: string }) =>
    withOperatorContext(opts.envFile, async ({ queues }) => {
      const queue = queues.find((q) => q.name === opts.queue);
      if (!queue) throw new Error(`no queue ${opts.queue}; queues: ${queues.map((q) => q.name).join(', ')}`);
      console.log(`retried ${await retryFailedJobs(queue, opts.job)} jobs`);
    }),
  );

program
  .command('health')
  .description('Synapse, appservice (ping through Synapse), MongoDB, Redis and queues; exit code 1 when any is down')
  .option('--env-file <path>', 'read configuration from this file')
  .action((opts: { envFile?: string }) =>
    withOperatorContext(opts.envFile, async ({ deps }) => {
      const health = await checkHealth(deps);
      console.table(Object.fromEntries(Object.entries(health.components).map(([name, c]) => [name, { status: c.status, ms: c.latencyMs, error: c.error ?? '' }])));
      if (health.status !== 'ok') process.exitCode = 1;
    }),
  );

program
  .command('migrate')
  .description('apply the pending data migrations (store/migrations/; every server process also does at start)')
  .option('--status', 'list applied and pending migrations, apply nothing')
  .option('--env-file <path>', 'read configuration from this file')
  .action(async (opts: { status?: boolean; envFile?: string }) => {
    const config = loadConfig(envFrom(opts.envFile));
    await connectDatabase(config.mongodbUri);
    try {
      if (!opts.status) {
        const applied = await runMigrations({ onApplied: (m, ms) => console.log(`applied ${m.id}-${m.name} (${ms} ms)`) });
        if (applied.length === 0) console.log('no pending migrations');
      }
      for (const m of await migrationStatus()) console.log(`${m.id}-${m.name}\t${m.appliedAt ? `applied ${m.appliedAt.toISOString()}` : 'pending'}`);
    } finally {
      await disconnectDatabase();
    }
  });

program.parseAsync().catch((err: Error) => {
  console.error(`chatctl: ${err.message}`);
  process.exit(1);
});
