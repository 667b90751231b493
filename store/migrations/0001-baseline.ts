import type { Migration } from './migration';

/**
 * The baseline: the data as written up to this release needs no change. It exists so every
 * database records where it stands; the next migration is 0002.
 */
export const migration: Migration = {
  id: '0001',
  name: 'baseline',
  async up() {},
};
