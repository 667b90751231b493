import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../runtime/config';
import { loadRegistration, type Registration } from '../../appservice/registration';
import { MatrixApi } from '../../appservice/matrix/matrixApi';
import { startAppservice, type AppserviceHandle } from '../../appservice/start';
import type { Role } from '../../portal-api';
import { callApi, tokenMinter, type ApiResponse } from '../../tests/support/apiClient';

export type { ApiResponse } from '../../tests/support/apiClient';
import { startPortalApi, type PortalApiHandle } from '../../portal-api/start';
import { startProvisioningWorker, type ProvisioningWorkerHandle } from '../../provisioning/start';
import { startLocalStack, type LocalStack } from '../../scripts/stack/localStack';
import { ServiceProcess, type ServiceRole } from './serviceProcess';
import { connectDatabase, disconnectDatabase } from '../../store';

/**
 * The infrastructure of one benchmark or chaos run: one local stack (Synapse test profile, FerretDB
 * or MONGODB_URI, Redis) with data on /dev/shm, a MongoDB connection for seeding and counting, and
 * the service processes, in-process or as children of this process.
 */
export class BenchStack {
  readonly inProcess: { appservice?: AppserviceHandle; portalApi?: PortalApiHandle; worker?: ProvisioningWorkerHandle } = {};
  private readonly children: ServiceProcess[] = [];
  readonly matrix: MatrixApi;
  readonly registration: Registration;
  readonly log: Logger;

  private constructor(
    readonly stack: LocalStack,
    /** Environment of every service process (in-process config and children alike). */
    readonly env: Record<string, string>,
    readonly config: Config,
  ) {
    this.registration = loadRegistration(config.appservice.registrationPath, { production: false });
    this.matrix = new MatrixApi(config.synapse.url, this.registration.asToken);
    this.log = pino({ level: env.LOG_LEVEL ?? 'info', name: 'bench', base: { pid: process.pid } }, pino.destination({ dest: join(stack.dataDir, 'in-process.log'), sync: false }));
  }

  static async start(name: string, envOverrides: Record<string, string> = {}): Promise<BenchStack> {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const dataDir = mkdtempSync(join(base, `coworking-chat-${name}-`));
    const stack = await startLocalStack({ dataDir, profile: 'test' });
    const env: Record<string, string> = {
      ...stack.env,
      LOG_LEVEL: 'info',
      SYNAPSE_REGISTRATION_SHARED_SECRET_PATH: stack.synapse.registrationSharedSecretPath,
      ...envOverrides,
    };
    try {
      const config = loadConfig({ ...process.env, ...env });
      const bench = new BenchStack(stack, env, config);
      await connectDatabase(config.mongodbUri);
      // Ctrl-C or a SIGTERM still stops every process this run started.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          console.error(`${name}: ${signal}, stopping the stack`);
          bench.stop().finally(() => process.exit(130));
        });
      }
      return bench;
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }

  get dataDir(): string {
    return this.stack.dataDir;
  }

  get domain(): string {
    return this.config.matrixDomain;
  }

  get baseUrl(): string {
    const portal = this.inProcess.portalApi;
    return portal ? portal.url : `http://${this.config.portalApi.host}:${this.config.portalApi.port}`;
  }

  async startInProcess(which: { appservice?: boolean; portalApi?: boolean; worker?: boolean }): Promise<void> {
    if (which.appservice && !this.inProcess.appservice) this.inProcess.appservice = await startAppservice(this.config, { log: this.log });
    if (which.worker && !this.inProcess.worker) this.inProcess.worker = await startProvisioningWorker(this.config, { log: this.log });
    if (which.portalApi && !this.inProcess.portalApi) this.inProcess.portalApi = await startPortalApi(this.config, { log: this.log });
  }

  async stopInProcessWorker(): Promise<void> {
    await this.inProcess.worker?.stop();
    delete this.inProcess.worker;
  }

  /** A service as a child process (`bin/server.ts <role>`), its log in the data directory. */
  child(role: ServiceRole, extraEnv: Record<string, string> = {}, nodeArgs: readonly string[] = []): ServiceProcess {
    const proc = new ServiceProcess(role, { ...this.env, ...extraEnv }, join(this.dataDir, `${role}-${this.children.length}.log`), nodeArgs);
    this.children.push(proc);
    return proc;
  }

  token(role: Role, sub: string, net?: string, expiresInSeconds = 6 * 3600): string {
    return tokenMinter(this.config)(role, sub, net, expiresInSeconds);
  }

  api<T = any>(method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    return callApi<T>(this.baseUrl, method, path, token, body, headers);
  }

  /** Same as api() but throws unless the answer is 2xx. */
  async ok<T = any>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const res = await this.api<T>(method, path, token, body);
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    return res.body;
  }

  async stop(): Promise<void> {
    for (const child of this.children) await child.stop(5000).catch(() => undefined);
    const { portalApi, worker, appservice } = this.inProcess;
    await portalApi?.stop().catch(() => undefined);
    await worker?.stop().catch(() => undefined);
    await appservice?.stop().catch(() => undefined);
    await disconnectDatabase();
    this.log.flush();
    await this.stack.stop();
  }
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inLanes<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
