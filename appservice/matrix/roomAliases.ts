import { createHmac } from 'node:crypto';
import { USER_PREFIX } from './virtualUsers';

/**
 * Aliases of the service's rooms and spaces. They exist so that two racing creators (or a crash and
 * a retry) end with one room: Synapse refuses the second alias. Keyed with a secret of the
 * installation (HMAC-SHA256 under the appservice's as_token), so nobody can compute a pair's
 * alias and learn from Synapse whether those two people talk.
 */
export type AliasKind = 'd' | 's' | 'n' | 'l';

export function roomAliasLocalpart(secret: string, kind: AliasKind, key: string): string {
  return `${USER_PREFIX}${kind}_${createHmac('sha256', secret).update(`room-alias/${key}`).digest('hex').slice(0, 32)}`;
}
