import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PROJECT_ROOT = join(__dirname, '..', '..');

export type ServiceRole = 'appservice' | 'portal-api' | 'worker' | 'all';

/**
 * One production process (`bin/server.ts <role>`) run as a child on the project's Node with tsx
 * loaded in-process (`node --import tsx`), so the pid is the service itself: SIGKILL reaches it and
 * /proc/<pid>/status holds its own memory figures.
 */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private logOffset = 0;

  constructor(
    readonly role: ServiceRole,
    private readonly env: Record<string, string>,
    readonly logPath: string,
    /** Node options of this process alone (e.g. --inspect for memoryAfterGc). */
    private readonly extraNodeArgs: readonly string[] = [],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits for its "ready" log line (bounded). */
  async start(timeoutMs = 60000): Promise<void> {
    if (this.running) throw new Error(`${this.role} is already running`);
    this.logOffset = existsSync(this.logPath) ? readFileSync(this.logPath).length : 0;
    const fd = openSync(this.logPath, 'a');
    // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the service processes.
    const nodeArgs = [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...this.extraNodeArgs];
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(PROJECT_ROOT, 'bin', 'server.ts'), this.role], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const ready = READY_LINES[this.role];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = this.newLog();
      if (ready.test(log)) return;
      if (!this.running) throw new Error(`${this.role} exited at start (code ${child.exitCode}); see ${this.logPath}\n${log.slice(-2000)}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.role} did not start in ${timeoutMs} ms; see ${this.logPath}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: no shutdown code runs, exactly like a crash or the OOM killer. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful), then SIGKILL after graceMs. */
  async stop(graceMs = 15000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Peak resident set size of the running process so far (VmHWM), in MiB. */
  peakRssMiB(): number {
    return this.statusKb('VmHWM') / 1024;
  }

  rssMiB(): number {
    return this.statusKb('VmRSS') / 1024;
  }

  /**
   * The process's memory right after a full garbage collection, asked through its inspector (it
   * must run with `--inspect=127.0.0.1:0`): what live objects cost, without the garbage a plain
   * RSS reading includes. In MiB.
   */
  async memoryAfterGc(): Promise<{ rss: number; heapUsed: number; external: number }> {
    const url = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(this.logPath, 'utf8').slice(this.logOffset))?.[1];
    if (!url) throw new Error(`${this.role} has no inspector (start it with --inspect=127.0.0.1:0)`);
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('could not reach the inspector'));
    });
    let id = 0;
    const call = (method: string, params: object = {}) =>
      new Promise<any>((resolve) => {
        const mine = ++id;
        ws.addEventListener('message', function onMessage(m) {
          const msg = JSON.parse(String(m.data));
          if (msg.id !== mine) return;
          ws.removeEventListener('message', onMessage);
          resolve(msg.result);
        });
        ws.send(JSON.stringify({ id: mine, method, params }));
      });
    try {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
      const m = JSON.parse(r.result.value) as { rss: number; heapUsed: number; external: number; arrayBuffers: number };
      const mib = (n: number) => n / 1024 / 1024;
      return { rss: mib(m.rss), heapUsed: mib(m.heapUsed), external: mib(m.external) };
    } finally {
      ws.close();
    }
  }

  /** Log text written since the last start. */
  newLog(): string {
    if (!existsSync(this.logPath)) return '';
    return readFileSync(this.logPath).subarray(this.logOffset).toString('utf8');
  }

  private statusKb(field: string): number {
    if (!this.running) throw new Error(`${this.role} is not running`);
    const status = readFileSync(`/proc/${this.child!.pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${this.child!.pid}/status has no ${field}`);
    return Number(match[1]);
  }
}

/** The log line each role prints once it serves (pino JSON `msg`). */
const READY_LINES: Record<ServiceRole, RegExp> = {
  appservice: /"msg":"appservice listening"/,
  'portal-api': /"msg":"portal API listening"/,
  worker: /"msg":"provisioning worker started"/,
  all: /"msg":"portal API listening"/,
};
