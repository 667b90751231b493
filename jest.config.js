/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } },
];
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  globalSetup: '<rootDir>/tests/support/globalSetup.ts',
  globalTeardown: '<rootDir>/tests/support/globalTeardown.ts',
  // Service logs to files in the test data directory, kept and named when a test fails.
  setupFilesAfterEnv: ['<rootDir>/tests/support/quietOutput.ts'],
  // One line per file, except the browser tests: each of those by name (browserTestNames.js).
  verbose: false,
  reporters: ['default', '<rootDir>/tests/support/logsReporter.js', '<rootDir>/tests/support/browserTestNames.js'],
  testTimeout: 120000,
  // Matrix-side tests share one Synapse; run files one after another (2-core machines anyway).
  maxWorkers: 1,
  // Safety net for CI: a leaked reconnecting client must not keep a finished run alive.
  forceExit: true,
};
