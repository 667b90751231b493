import { readFileSync, writeFileSync } from 'node:fs';
import { AppServiceRegistration } from 'matrix-appservice-bridge';
import YAML from 'yaml';
import { ConfigError } from '../runtime';
import { aliasNamespaceRegex, BOT_LOCALPART, userNamespaceRegexes } from './matrix/virtualUsers';

/**
 * registration.yaml: how Synapse knows the appservice. Generated with fresh random tokens
 * (`chatctl registration generate`, or by the start and test scripts), never committed.
 */
export const APPSERVICE_ID = 'coworking-chat';

export interface Registration {
  id: string;
  url: string;
  asToken: string;
  hsToken: string;
  senderLocalpart: string;
}

export function generateRegistration(opts: { url: string; domain: string }): Record<string, unknown> {
  const reg = new AppServiceRegistration(opts.url);
  reg.setId(APPSERVICE_ID);
  reg.setAppServiceToken(AppServiceRegistration.generateToken());
  reg.setHomeserverToken(AppServiceRegistration.generateToken());
  reg.setSenderLocalpart(BOT_LOCALPART);
  reg.setRateLimited(false);
  for (const regex of userNamespaceRegexes(opts.domain)) reg.addRegexPattern('users', regex, true);
  reg.addRegexPattern('aliases', aliasNamespaceRegex(opts.domain), true);
  return {
    ...reg.getOutput(),
    // Typing and read receipts feed the conversation index (stable name and the MSC2409 one).
    receive_ephemeral: true,
    'de.sorunome.msc2409.push_ephemeral': true,
  };
}

export function writeRegistration(path: string, registration: Record<string, unknown>): void {
  writeFileSync(path, YAML.stringify(registration), { mode: 0o600 });
}

const PLACEHOLDER = /^(|.*(example|changeme|placeholder|secret|token|xxx).*)$/i;

export function loadRegistration(path: string, opts: { production: boolean }): Registration {
  let raw: Record<string, unknown>;
  try {
    raw = YAML.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('REGISTRATION_PATH', `cannot read ${path}: ${(err as Error).message}`);
  }
  const field = (name: string): string => {
    const value = raw?.[name];
    if (typeof value !== 'string' || value === '') throw new ConfigError('REGISTRATION_PATH', `${path} has no ${name}`);
    return value;
  };
  const reg: Registration = {
    id: field('id'),
    url: field('url'),
    asToken: field('as_token'),
    hsToken: field('hs_token'),
    senderLocalpart: field('sender_localpart'),
  };
  if (opts.production) {
    for (const [name, token] of [['as_token', reg.asToken], ['hs_token', reg.hsToken]] as const) {
      if (token.length < 32 || PLACEHOLDER.test(token)) {
        throw new ConfigError('REGISTRATION_PATH', `${path}: ${name} looks like a placeholder; generate a registration`);
      }
    }
  }
  return reg;
}
