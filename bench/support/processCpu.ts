import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of the benchmark's own process tree (this process and every descendant: Synapse,
 * FerretDB or PostgreSQL, Redis, nginx, the service processes, load generators), per part, read
 * from /proc (Linux). Two snapshots around a phase say where its CPU went, so a latency figure
 * can be told apart from a machine that is simply out of cores. A process that ends between the
 * two snapshots is not counted (the benchmark's processes live through its phases).
 */
export interface CpuSnapshot {
  at: number;
  /** CPU milliseconds (user + system) per part. */
  byPart: Map<string, number>;
}

const CLOCK_TICKS_PER_SECOND = 100;

function readProc(pid: string): { ppid: number; cpuMs: number; cmdline: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return { ppid, cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND, cmdline };
  } catch {
    return null; // gone meanwhile
  }
}

/** What a process is, from its command line. */
function partOf(pid: number, cmdline: string): string {
  if (pid === process.pid) return 'bench process';
  if (/synapse/.test(cmdline)) return /generic_worker|worker_app|client_worker/.test(cmdline) ? 'Synapse worker' : 'Synapse';
  if (/ferretdb/.test(cmdline)) return 'FerretDB';
  if (/postgres/.test(cmdline)) return 'PostgreSQL';
  if (/redis-server/.test(cmdline)) return 'Redis';
  if (/nginx/.test(cmdline)) return 'nginx';
  if (/mailpit/.test(cmdline)) return 'Mailpit';
  const role = /bin\/server\.(?:ts|js)\s+(\S+)/.exec(cmdline)?.[1];
  if (role) return `${role} process`;
  if (/sseListenerProcess/.test(cmdline)) return 'listener process';
  return 'other';
}

export function cpuSnapshot(): CpuSnapshot {
  const procs = new Map<number, { ppid: number; cpuMs: number; cmdline: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = readProc(entry);
    if (p) procs.set(Number(entry), p);
  }
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const byPart = new Map<string, number>();
  const stack = [process.pid];
  while (stack.length) {
    const pid = stack.pop()!;
    const p = procs.get(pid);
    if (p) {
      // A launcher (tsx's) has its child's command line and counts with it.
      const part = partOf(pid, p.cmdline);
      byPart.set(part, (byPart.get(part) ?? 0) + p.cpuMs);
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return { at: Date.now(), byPart };
}

/** CPU per part between two snapshots, largest first, and the total. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): { total: number; seconds: number; parts: Array<[string, number]> } {
  const parts: Array<[string, number]> = [];
  for (const [part, ms] of after.byPart) {
    const used = ms - (before.byPart.get(part) ?? 0);
    if (used > 0) parts.push([part, used]);
  }
  parts.sort((a, b) => b[1] - a[1]);
  return { total: parts.reduce((s, [, ms]) => s + ms, 0), seconds: (after.at - before.at) / 1000, parts };
}

/** "bench process 41 ms, Synapse 33 ms, … (119 ms of CPU per message; 2 cores allow at most 17 per second)". */
export function describeCpuPerUnit(cpu: ReturnType<typeof cpuBetween>, units: number, unit: string, cores: number): string {
  const per = (ms: number) => (ms / units).toFixed(1);
  const perUnit = cpu.total / units;
  return `${cpu.parts.map(([part, ms]) => `${part} ${per(ms)} ms`).join(', ')} (${perUnit.toFixed(1)} ms of CPU per ${unit}; ${cores} cores allow at most ${Math.floor((cores * 1000) / perUnit)} per second)`;
}
