/**
 * Mapping between the host platform's ids and Matrix ids of the appservice's namespace.
 *
 *   customer  (network n1, customer C-42)  ->  @cw_c_n1_c-42=... : each id is encoded so that
 *   administrator (network n1, admin A7)   ->  @cw_a_n1_a7...
 *
 * Localparts must be lowercase and may hold only [a-z0-9._=-/]. Host ids are arbitrary strings,
 * so every character outside [a-z0-9.-] (uppercase, '_', '=' included) is written as '=' + two
 * lowercase hex digits per UTF-8 byte. '_' therefore never appears inside an encoded id and can
 * separate the parts unambiguously; the mapping is stable and reversible.
 */
export const USER_PREFIX = 'cw_';
export const BOT_LOCALPART = 'cw_bot';

export type VirtualUserKind = 'customer' | 'admin';
export interface VirtualUserRef {
  kind: VirtualUserKind;
  networkId: string;
  id: string;
}

const KIND_TAG: Record<VirtualUserKind, string> = { customer: 'c', admin: 'a' };
const ENCODED_ID = '[a-z0-9.=-]+';

export function encodeIdPart(id: string): string {
  let out = '';
  for (const byte of Buffer.from(id, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9.-]/.test(ch) ? ch : `=${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function decodeIdPart(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '=') {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function virtualUserLocalpart(ref: VirtualUserRef): string {
  return `${USER_PREFIX}${KIND_TAG[ref.kind]}_${encodeIdPart(ref.networkId)}_${encodeIdPart(ref.id)}`;
}

export function virtualUserId(ref: VirtualUserRef, domain: string): string {
  return `@${virtualUserLocalpart(ref)}:${domain}`;
}

export function botUserId(domain: string): string {
  return `@${BOT_LOCALPART}:${domain}`;
}

/** The virtual user a Matrix id stands for, or null when it is not one of ours on this server. */
export function parseVirtualUserId(userId: string, domain: string): VirtualUserRef | null {
  const m = new RegExp(`^@${USER_PREFIX}([ca])_(${ENCODED_ID})_(${ENCODED_ID}):(.+)$`).exec(userId);
  if (!m || m[4] !== domain) return null;
  return {
    kind: m[1] === 'c' ? 'customer' : 'admin',
    networkId: decodeIdPart(m[2]!),
    id: decodeIdPart(m[3]!),
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Fully anchored namespace regexes for registration.yaml. */
export function userNamespaceRegexes(domain: string): string[] {
  const d = escapeRegex(domain);
  return (['c', 'a'] as const).map((tag) => `^@${USER_PREFIX}${tag}_${ENCODED_ID}_${ENCODED_ID}:${d}$`);
}

export function aliasNamespaceRegex(domain: string): string {
  return `^#${USER_PREFIX}[a-z0-9._=-]+:${escapeRegex(domain)}$`;
}
