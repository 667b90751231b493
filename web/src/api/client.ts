import createClient, { type Client } from 'openapi-fetch';
import type { ApiPaths } from './liveContract';

export type Api = Client<ApiPaths>;

/** What the API answered instead of success: the contract's error shape, plus what the UI needs. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null = null,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The browser could not reach the API at all (offline, server gone). */
export class OfflineError extends Error {
  constructor() {
    super('offline');
    this.name = 'OfflineError';
  }
}

/** The typed client of the portal API (generated types), sending the host's token on every call. */
export function createApi(apiBase: string, getToken: () => Promise<string>): Api {
  const api = createClient<ApiPaths>({
    baseUrl: apiBase.replace(/\/+$/, ''),
    fetch: async (request: Request) => {
      try {
        return await fetch(request);
      } catch {
        throw new OfflineError();
      }
    },
  });
  api.use({
    async onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${await getToken()}`);
      return request;
    },
  });
  return api;
}

/** The answer's data, or an ApiError carrying the contract's code and Retry-After. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { error?: { code?: string; message?: string; field?: string } };
  const retry = Number(response.headers.get('retry-after'));
  throw new ApiError(
    response.status,
    body.error?.code ?? `http_${response.status}`,
    body.error?.message ?? response.statusText,
    Number.isFinite(retry) && retry > 0 ? retry : null,
    body.error?.field ?? null,
  );
}

/** Whether a route of API.md's v1.1 is not on this server yet (404 for the route itself). */
export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiError && ((err.status === 404 && err.message === 'no such route') || err.status === 405);
}
