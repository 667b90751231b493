import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from '../../store/migrations';

describe('data migrations (store/migrations/)', () => {
  test('every numbered file is listed, in order, under the number and name of its file', () => {
    const files = readdirSync(join(__dirname, '..', '..', 'store', 'migrations'))
      .filter((f) => /^\d{4}-.+\.ts$/.test(f))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    expect(MIGRATIONS.map((m) => `${m.id}-${m.name}.ts`)).toEqual(files);
    const ids = MIGRATIONS.map((m) => Number(m.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });
});
