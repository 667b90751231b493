import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Where a root logger writes; by default JSON lines on stdout. */
export interface LogOutput {
  /** JSON lines go to this file (created with its folder) instead of stdout. */
  file?: string;
  /** With `file`: lines at this level and above are also shown on stderr, one short line each. */
  stderrFrom?: 'warn' | 'error' | 'fatal';
}

let processDefault: LogOutput = {};

/** The output of root loggers created afterwards in this process without one of their own (tests: services.log). */
export function setDefaultLogOutput(output: LogOutput): void {
  processDefault = output;
}

/** The root logger of a process; modules take `root.child({ module: '<name>' })`. */
export function createRootLogger(level: string, name: string, output: LogOutput = processDefault): Logger {
  const options = { level, name, base: { pid: process.pid } };
  if (!output.file) return pino(options);
  const file = logFile(output.file);
  if (!output.stderrFrom) return pino(options, file);
  return pino(options, pino.multistream([{ level: 'trace', stream: file }, { level: output.stderrFrom, stream: shortLinesOnStderr }]));
}

const files = new Map<string, DestinationStream>();

/** One stream per file; synchronous writes, so a crash or process.exit loses no line. */
function logFile(path: string): DestinationStream {
  let stream = files.get(path);
  if (!stream) {
    stream = pino.destination({ dest: path, mkdir: true, sync: true });
    files.set(path, stream);
  }
  return stream;
}

/** `error portal-api: redis connection error (connect ECONNREFUSED 127.0.0.1:6379)`; the whole line is in the file. */
const shortLinesOnStderr: DestinationStream = {
  write(line: string) {
    try {
      const { level, name, module, msg, err } = JSON.parse(line);
      const reason = typeof err === 'string' ? err : err?.message;
      process.stderr.write(`${pino.levels.labels[level] ?? level} ${module ?? name}: ${msg}${reason ? ` (${reason})` : ''}\n`);
    } catch {
      process.stderr.write(line);
    }
  },
};
