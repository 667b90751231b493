import type { Config } from '../../runtime';
import { mintToken, type Role } from '../../portal-api';

/**
 * The portal API as tests, benchmarks and the chaos suite call it: over HTTP, with tokens minted
 * from the stack's configuration. One client for all three, so they all see the same answers.
 */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** JSON bodies are sent as JSON, strings and buffers as they are; JSON answers are parsed. */
export async function callApi<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
  });
  // An event stream never ends by itself: its status and headers are the answer (read it with
  // eventStreamClient.ts).
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, body: undefined as T, headers: res.headers };
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* non-JSON answers are kept as text */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Mints portal tokens the stack accepts (its HS* secret, issuer and audience). */
export function tokenMinter(config: Config) {
  const { jwt } = config;
  return (role: Role, sub: string, net?: string, expiresInSeconds = 600): string =>
    mintToken({ secretOrPrivateKey: jwt.key, algorithm: jwt.algorithm, issuer: jwt.issuer, audience: jwt.audience }, { role, sub, net }, expiresInSeconds);
}
