import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../scripts/stack/freePort';

const ROOT = join(__dirname, '..', '..');

/** Starts the real production entry (bin/server.ts) and returns how it ended. */
function runServer(env: Record<string, string | undefined>) {
  const started = Date.now();
  const res = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/server.ts', 'all'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 30000,
  });
  return { status: res.status, stderr: res.stderr, ms: Date.now() - started };
}

describe('a bad configuration stops the process with the key named', () => {
  const base = () => ({
    PORTAL_JWT_SECRET: process.env.PORTAL_JWT_SECRET,
    PORTAL_JWT_ISSUER: process.env.PORTAL_JWT_ISSUER,
    PORTAL_JWT_AUDIENCE: process.env.PORTAL_JWT_AUDIENCE,
    SYNAPSE_URL: process.env.SYNAPSE_URL,
    MATRIX_DOMAIN: process.env.MATRIX_DOMAIN,
    MONGODB_URI: process.env.MONGODB_URI,
    REDIS_URL: process.env.REDIS_URL,
    REGISTRATION_PATH: process.env.REGISTRATION_PATH,
    PORTAL_API_PORT: '0',
    APPSERVICE_PORT: '0',
  });

  test('missing JWT secret', () => {
    const res = runServer({ ...base(), PORTAL_JWT_SECRET: undefined });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('fatal: configuration PORTAL_JWT_SECRET: required when PORTAL_JWT_ALGORITHM is HS256');
  });

  test('unreachable MongoDB fails within seconds, naming MONGODB_URI', async () => {
    const closedPort = await freePort();
    const res = runServer({ ...base(), MONGODB_URI: `mongodb://127.0.0.1:${closedPort}/chat` });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`fatal: configuration MONGODB_URI: cannot connect to mongodb://127.0.0.1:${closedPort}/chat`);
    expect(res.ms).toBeLessThan(20000);
  });

  test('missing registration file', () => {
    const res = runServer({ ...base(), REGISTRATION_PATH: '/nonexistent/registration.yaml' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('fatal: configuration REGISTRATION_PATH: cannot read /nonexistent/registration.yaml');
  });
});
