import pino, { type Logger } from 'pino';

export type { Logger };

/** The root logger of a process; modules take `root.child({ module: '<name>' })`. */
export function createRootLogger(level: string, name: string): Logger {
  return pino({ level, name, base: { pid: process.pid } });
}
