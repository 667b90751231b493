/** A Matrix session as POST /v1/me/matrix-session hands it out. */
export interface MatrixSession {
  homeserverUrl: string;
  accessToken: string;
}

/**
 * One raw client-server API call as the session's user, the way any Matrix client sends it (no
 * SDK in between, so tests can send what an SDK would refuse): JSON in, or `raw` bytes (a media
 * upload). Answers the status and the parsed body (null when the answer is not JSON).
 */
export async function matrixRequest<T = Record<string, unknown>>(
  session: MatrixSession,
  method: string,
  path: string,
  body?: unknown,
  raw?: { data: Buffer; type: string },
): Promise<{ status: number; body: T | null }> {
  const res = await fetch(`${session.homeserverUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${session.accessToken}`,
      ...(raw ? { 'content-type': raw.type } : body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: raw ? raw.data : body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as T | null };
}
