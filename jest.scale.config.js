/**
 * `npm run test:scale`: the end-to-end files that drive the service only from outside, through the
 * portal API (HTTP, live stream) and the Matrix client-server API, against the scale profile
 * (STACK_PROFILE=scale, README › Deploying, "Scale-out"): Synapse on PostgreSQL with a generic
 * worker behind nginx. A file is in the subset when it imports nothing of the service's parts
 * (no `../../` import: no store models, no in-process internals); those files assert what a client
 * sees, which must hold whichever Synapse process answers. Selected by that rule at run time, so a
 * new file of that kind joins by itself.
 */
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const base = require('./jest.config.js');

const e2e = join(__dirname, 'tests', 'e2e');
const fromOutside = readdirSync(e2e)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => !/from '\.\.\/\.\.\//.test(readFileSync(join(e2e, f), 'utf8')))
  .sort();

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: fromOutside.map((f) => `<rootDir>/tests/e2e/${f}`),
};
