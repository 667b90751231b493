import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The house rules of the layout (README "Where things live"), checked on every `npm test`:
 *  - each part is entered through its front (`<part>/index.ts`) from outside it;
 *  - dependencies point one way: runtime ← store ← live ← appservice ← provisioning ← portal-api
 *    (live/ is the event stream's Redis machinery: it knows runtime/ only);
 *  - only the store imports mongoose.
 * Tests, benchmarks and the chaos suite may reach behind a front (they test the parts' insides),
 * but not past the store.
 */

const ROOT = join(__dirname, '..', '..');
const PARTS = ['runtime', 'store', 'live', 'appservice', 'provisioning', 'portal-api'] as const;
type Part = (typeof PARTS)[number];

/** Which parts each part may import (besides itself). */
const MAY_IMPORT: Record<Part, readonly Part[]> = {
  runtime: [],
  store: ['runtime'],
  live: ['runtime'],
  appservice: ['runtime', 'store', 'live'],
  provisioning: ['runtime', 'store', 'live', 'appservice'],
  'portal-api': ['runtime', 'store', 'live', 'appservice', 'provisioning'],
};
/** The one import of the store into the appservice: the rules' vocabulary (a module without imports). */
const STORE_EXCEPTIONS = new Set(['store/networks.ts -> appservice/domain/chatRules.ts']);
/** Callers outside the parts that are held to the fronts too. */
const FRONT_BOUND = ['bin', 'scripts'];

export function importViolations(files: ReadonlyMap<string, string>): string[] {
  const violations: string[] = [];
  for (const [file, source] of files) {
    const from = file.split('/')[0]!;
    for (const specifier of importSpecifiers(source)) {
      if (specifier === 'mongoose' || specifier.startsWith('mongoose/')) {
        if (from !== 'store') violations.push(`${file} imports mongoose: only store/ may (ask the store in domain words)`);
        continue;
      }
      if (!specifier.startsWith('.')) continue;
      const target = resolveTarget(files, file, specifier);
      const to = target.split('/')[0]!;
      if (to === from || !PARTS.includes(to as Part)) continue;
      if (PARTS.includes(from as Part)) {
        const allowed = MAY_IMPORT[from as Part].includes(to as Part) || STORE_EXCEPTIONS.has(`${file} -> ${target}`);
        if (!allowed) violations.push(`${file} imports ${target}: ${from}/ must not depend on ${to}/`);
        else if (target !== `${to}/index.ts` && !STORE_EXCEPTIONS.has(`${file} -> ${target}`)) {
          violations.push(`${file} imports ${target}: go through the front, ${to}/index.ts`);
        }
      } else if (FRONT_BOUND.includes(from) && target !== `${to}/index.ts`) {
        violations.push(`${file} imports ${target}: go through the front, ${to}/index.ts`);
      }
    }
  }
  return violations;
}

function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(pattern)) found.push((m[1] ?? m[2] ?? m[3])!);
  return found;
}

function resolveTarget(files: ReadonlyMap<string, string>, file: string, specifier: string): string {
  const base = normalize(join(dirname(file), specifier));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) if (files.has(candidate)) return candidate;
  return `${base}.ts`;
}

function projectFiles(): Map<string, string> {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { cwd: ROOT, encoding: 'utf8' });
  const files = new Map<string, string>();
  for (const path of listed.split('\n').filter(Boolean)) {
    if (existsSync(join(ROOT, path))) files.set(relative(ROOT, join(ROOT, path)), readFileSync(join(ROOT, path), 'utf8'));
  }
  return files;
}

describe('import boundaries', () => {
  test('the project keeps the house rules', () => {
    const files = projectFiles();
    expect(files.size).toBeGreaterThan(100);
    expect(importViolations(files)).toEqual([]);
  });

  test('the checker sees each kind of violation (positive control)', () => {
    const files = new Map([
      ['store/index.ts', ''],
      ['appservice/index.ts', ''],
      ['appservice/domain/chatRules.ts', ''],
      ['provisioning/index.ts', ''],
      ['portal-api/routes/bad.ts', "import { x } from '../../appservice/domain/chatRules';\nimport mongoose from 'mongoose';\n"],
      ['appservice/domain/bad.ts', "import { y } from '../../portal-api/routes/bad';\n"],
      ['bin/bad.ts', "import { z } from '../provisioning/commands/toggleChats';\n"],
      ['live/index.ts', ''],
      ['live/bad.ts', "import { w } from '../appservice';\n"],
      ['portal-api/routes/good.ts', "import { x } from '../../appservice';\nimport type { T } from '../../store';\n"],
    ]);
    expect(importViolations(files)).toEqual([
      'portal-api/routes/bad.ts imports appservice/domain/chatRules.ts: go through the front, appservice/index.ts',
      'portal-api/routes/bad.ts imports mongoose: only store/ may (ask the store in domain words)',
      'appservice/domain/bad.ts imports portal-api/routes/bad.ts: appservice/ must not depend on portal-api/',
      'bin/bad.ts imports provisioning/commands/toggleChats.ts: go through the front, provisioning/index.ts',
      'live/bad.ts imports appservice/index.ts: live/ must not depend on appservice/',
    ]);
  });
});
