/**
 * chatctl: the operator's and developer's command line.
 *   chatctl token --role customer --sub alice --net demo   mint a dev token (never over HTTP)
 *   chatctl registration generate --url ... --domain ...   write a fresh registration.yaml
 * Configuration comes from the environment, or from --env-file (the dev stack writes .run/dev/dev.env).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadConfig } from '../appservice/config';
import { generateRegistration, writeRegistration } from '../appservice/registration';
import { mintToken, ROLES, type Role } from '../portal-api/auth';

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

program.parseAsync().catch((err: Error) => {
  console.error(`chatctl: ${err.message}`);
  process.exit(1);
});
