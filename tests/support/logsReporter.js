/**
 * Jest reporter (jest.config.js): when a test failed, the run's data directory (services.log,
 * matrix-js-sdk.log, the Synapse, Redis and FerretDB logs) is kept and its path printed.
 * globalTeardown runs after this and keeps the directory when KEEP_TEST_DATA is 1.
 */
class LogsReporter {
  onRunComplete(_contexts, results) {
    const dir = process.env.TEST_DATA_DIR;
    const failed = results.numFailedTests > 0 || results.numFailedTestSuites > 0 || results.numRuntimeErrorTestSuites > 0;
    if (!dir || !(failed || process.env.KEEP_TEST_DATA === '1')) return;
    process.env.KEEP_TEST_DATA = '1';
    process.stderr.write(`\nLogs of this run are kept in ${dir}: services.log (appservice, portal API and workers), matrix-js-sdk.log, and the Synapse, Redis and FerretDB logs\n\n`);
  }
}
module.exports = LogsReporter;
