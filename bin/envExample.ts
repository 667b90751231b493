/**
 * Writes .env.example from the configuration schema (runtime/config.ts): every key, its meaning and
 * its default. `npm run env-example`; tests/unit/envExample.test.ts fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample } from '../runtime';

const file = join(__dirname, '..', '.env.example');
writeFileSync(file, renderEnvExample());
console.log(`wrote ${file}`);
