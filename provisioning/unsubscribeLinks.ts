import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The one-click unsubscribe links of notification emails: `<payload>.<signature>`, the payload
 * naming the person (notificationSettingsId) and the link's expiry, signed with HMAC-SHA256 under
 * EMAIL_LINK_SECRET. Anyone holding the link may switch that person's email off (that is the point
 * of RFC 8058), nothing else; a changed or expired link changes nothing.
 */

export interface UnsubscribeClaim {
  personKey: string;
  expiresAt: Date;
}

export function signUnsubscribeToken(secret: string, personKey: string, expiresAt: Date): string {
  const payload = Buffer.from(JSON.stringify({ p: personKey, e: Math.floor(expiresAt.getTime() / 1000) })).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

export type UnsubscribeCheck = { ok: true; claim: UnsubscribeClaim } | { ok: false; reason: 'invalid' | 'expired' };

export function verifyUnsubscribeToken(secret: string, token: string, now = new Date()): UnsubscribeCheck {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
  const expected = Buffer.from(mac(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid' };
  let claim: { p?: unknown; e?: unknown };
  try {
    claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (typeof claim.p !== 'string' || typeof claim.e !== 'number') return { ok: false, reason: 'invalid' };
  const expiresAt = new Date(claim.e * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claim: { personKey: claim.p, expiresAt } };
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', `unsubscribe|${secret}`).update(payload).digest('base64url');
}
