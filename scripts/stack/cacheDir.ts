import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where installs that outlive a checkout live (Synapse virtualenv, FerretDB binary). */
export function cacheDir(): string {
  return process.env.CHAT_CACHE_DIR || join(homedir(), '.cache', 'coworking-chat');
}

export const PROJECT_ROOT = join(__dirname, '..', '..');
