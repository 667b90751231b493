import { loadConfig, type Config } from '../../runtime/config';
import { createRootLogger } from '../../runtime/logger';
import type { Role } from '../../portal-api';
import { callApi, tokenMinter, type ApiResponse } from './apiClient';

export { callApi, type ApiResponse } from './apiClient';
import { startAllInOne, type AllInOneHandle } from '../../bin/allInOne';

export interface TestServices {
  config: Config;
  all: AllInOneHandle;
  baseUrl: string;
  token(role: Role, sub: string, net?: string, expiresInSeconds?: number): string;
  api<T = any>(method: string, path: string, token?: string, body?: unknown): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

/** Config of the shared test stack (globalSetup), with free ports for this file's own processes. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, PORTAL_API_PORT: '0', ...overrides });
}

/** The real appservice, portal API and worker, in-process, against the shared Synapse. */
export async function startServices(overrides: Record<string, string> = {}): Promise<TestServices> {
  const config = testConfig(overrides);
  const log = createRootLogger(config.logLevel, 'test');
  const all = await startAllInOne(config, log);
  const baseUrl = all.portalApi.url;
  const token = tokenMinter(config);
  return {
    config,
    all,
    baseUrl,
    token,
    api: (method, path, tok, body) => callApi(baseUrl, method, path, tok, body),
    stop: () => all.stop(),
  };
}

/** A unique id per test run, so tests never see each other's networks. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
