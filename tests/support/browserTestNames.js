/**
 * Jest reporter (jest.config.js): lists each browser test by name (tests/browser/), so the CI
 * output shows which screens were driven in Chromium, while the ~2,000 other tests stay one line
 * per file.
 */
class BrowserTestNames {
  onTestResult(test, result) {
    if (!test.path.includes('/tests/browser/')) return;
    const mark = { passed: '✓', failed: '✕', pending: '○', skipped: '○', todo: '✎' };
    const lines = result.testResults.map((t) => `    ${mark[t.status] ?? '?'} ${t.fullName} (${t.duration ?? 0} ms)`);
    process.stderr.write(`  browser tests of ${test.path.split('/tests/')[1]}:\n${lines.join('\n')}\n`);
  }
}
module.exports = BrowserTestNames;
