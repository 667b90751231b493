/** Who the host's token speaks for: read from its claims (the API verifies it; this only shows). */
export interface Session {
  role: 'customer' | 'admin';
  id: string;
  networkId: string;
}

export function sessionFromToken(token: string): Session {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('not a JWT');
  const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { role?: string; sub?: string; net?: string };
  if ((claims.role !== 'customer' && claims.role !== 'admin') || !claims.sub || !claims.net) {
    throw new Error('the token is not a customer or administrator token of a network');
  }
  return { role: claims.role, id: claims.sub, networkId: claims.net };
}
