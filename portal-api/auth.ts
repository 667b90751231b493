import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { type Config, UnauthenticatedError } from '../runtime';

export type Role = 'customer' | 'admin' | 'service' | 'operator';
export const ROLES: readonly Role[] = ['customer', 'admin', 'service', 'operator'];

/** Who is calling, from a verified token. */
export interface Caller {
  role: Role;
  /** The caller's own id on the host platform. */
  sub: string;
  /** The network the token is bound to; null for operators only. */
  networkId: string | null;
  /** When the token expires (ms since the epoch): a live stream ends then. */
  expiresAt?: number;
}

const hostId = z.string().min(1).max(128);
const claimsSchema = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['customer', 'admin', 'service']), sub: hostId, net: hostId, exp: z.number() }),
  z.object({ role: z.literal('operator'), sub: hostId, exp: z.number() }),
]);

/**
 * Verifies a bearer token: the algorithm is pinned by configuration (so neither `none` nor an
 * HMAC-with-the-public-key confusion can pass), `exp` is required, `iss` and `aud` must match.
 */
export function verifyBearer(header: string | undefined, jwtConfig: Config['jwt']): Caller {
  const match = /^Bearer ([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)$/.exec(header ?? '');
  if (!match) throw new UnauthenticatedError();
  let payload: unknown;
  try {
    payload = jwt.verify(match[1]!, jwtConfig.key, {
      algorithms: [jwtConfig.algorithm],
      issuer: jwtConfig.issuer,
      audience: jwtConfig.audience,
      clockTolerance: 5,
    });
  } catch (err) {
    const reason = err instanceof jwt.TokenExpiredError ? 'the token has expired' : 'the token is not valid';
    throw new UnauthenticatedError(reason);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new UnauthenticatedError('the token lacks sub, role, net or exp');
  const c = claims.data;
  return { role: c.role, sub: c.sub, networkId: c.role === 'operator' ? null : c.net, expiresAt: c.exp * 1000 };
}

/** Development helper (CLI and tests): never reachable over HTTP. */
export function mintToken(
  jwtConfig: { secretOrPrivateKey: string; algorithm: Config['jwt']['algorithm']; issuer: string; audience: string },
  claims: { sub: string; role: Role; net?: string },
  expiresInSeconds = 3600,
): string {
  return jwt.sign({ role: claims.role, ...(claims.net ? { net: claims.net } : {}) }, jwtConfig.secretOrPrivateKey, {
    algorithm: jwtConfig.algorithm,
    subject: claims.sub,
    issuer: jwtConfig.issuer,
    audience: jwtConfig.audience,
    expiresIn: expiresInSeconds,
  });
}
