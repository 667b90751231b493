import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';

export interface ManagedProcess {
  child: ChildProcess;
  logPath: string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

/** Starts a server process with stdout and stderr appended to a log file a developer can find. */
export function startProcess(command: string, args: string[], opts: { logPath: string; cwd?: string; env?: NodeJS.ProcessEnv }): ManagedProcess {
  const fd = openSync(opts.logPath, 'a');
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    child.once('exit', () => resolve());
  });
  const stop = async (graceMs = 10000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    child,
    logPath: opts.logPath,
    stop,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export function tail(path: string, lines = 30): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Runs an install script and returns its last stdout line (the installed path). */
export function runInstallScript(script: string, args: string[] = []): string {
  const res = spawnSync('bash', [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (res.status !== 0) throw new Error(`${script} failed (exit ${res.status})`);
  return res.stdout.trim().split('\n').pop()!;
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, onTimeout: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms\n${onTimeout()}`);
}
