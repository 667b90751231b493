import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { setDefaultLogOutput } from '../../runtime';

/**
 * Runs before every test file (jest.config.js setupFilesAfterEnv): a passing run shows Jest's
 * results only. What the services log in-process (the expected errors of fault tests included)
 * goes to <TEST_DATA_DIR>/services.log, matrix-js-sdk's console chatter to matrix-js-sdk.log.
 * Processes the tests start keep their own output (pino on stdout, which those tests read).
 */
const dir = process.env.TEST_DATA_DIR;
if (dir) {
  setDefaultLogOutput({ file: join(dir, 'services.log') });
  const sdkLog = join(dir, 'matrix-js-sdk.log');
  for (const method of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      // Frame 0 is this function; frame 1 its caller, matrix-js-sdk's logger for its messages.
      const caller = new Error().stack?.split('\n')[2] ?? '';
      if (/[\\/]node_modules[\\/]matrix-js-sdk[\\/]/.test(caller)) appendFileSync(sdkLog, `${method} ${format(...args)}\n`);
      else original.apply(console, args);
    };
  }
}
