import type { Migration } from './migration';
import { migration as m0001 } from './0001-baseline';
import { migration as m0002 } from './0002-registered-on-matrix';
import { migration as m0003 } from './0003-reaction-sets';
import { migration as m0004 } from './0004-administrator-rosters';
import { migration as m0005 } from './0005-conversation-reaction-marks';

export type { Migration } from './migration';

/** Every migration, in order. A new file NNNN-name.ts is added here too (tests/unit/schemaMigrations.test.ts checks). */
export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005];
