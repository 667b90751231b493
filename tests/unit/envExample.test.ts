import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentKeys, renderEnvExample } from '../../runtime/config';

const ROOT = join(__dirname, '..', '..');

describe('.env.example is generated from the configuration schema', () => {
  test('the committed file is what the schema generates (run `npm run env-example` after changing runtime/config.ts)', () => {
    expect(readFileSync(join(ROOT, '.env.example'), 'utf8')).toBe(renderEnvExample());
  });

  test('every key has a description, and required keys carry no default', () => {
    const keys = environmentKeys();
    expect(keys.length).toBeGreaterThan(40);
    for (const k of keys) {
      expect({ key: k.key, described: k.description.length > 10 }).toEqual({ key: k.key, described: true });
      if (k.required) expect(k.defaultValue).toBeUndefined();
    }
    expect(keys.find((k) => k.key === 'MONGODB_URI')).toMatchObject({ required: true });
    expect(keys.find((k) => k.key === 'PORTAL_API_PORT')).toMatchObject({ required: false, defaultValue: '8080' });
    expect(keys.find((k) => k.key === 'SMTP_URL')).toMatchObject({ required: false, defaultValue: undefined });
  });

  test('every key the services read from the environment is in the schema', () => {
    const documented = new Set(environmentKeys().map((k) => k.key));
    const file = readFileSync(join(ROOT, '.env.example'), 'utf8');
    for (const key of ['WORKER_HTTP_PORT', 'METRICS_PORT', 'REGISTRATION_PATH', 'NODE_ENV']) {
      expect(documented.has(key)).toBe(true);
      expect(file).toMatch(new RegExp(`^(# )?${key}=`, 'm'));
    }
  });
});
