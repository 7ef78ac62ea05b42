import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Prints one plain last line, `N passed, N failed[, N skipped]`, counting individual tests, so CI logs end
 * with a greppable verdict. Errors outside any test (import errors, failing beforeAll/afterAll hooks, whose
 * tests then merely count as skipped) and unhandled errors are appended as `, N errors` rather than hidden
 * behind `0 failed`.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    let errors = unhandledErrors.length;
    for (const testModule of testModules) {
      errors += testModule.errors().length;
      for (const suite of testModule.children.allSuites()) errors += suite.errors().length;
      for (const test of testModule.children.allTests()) counts[test.result().state]++;
    }
    let line = `${counts.passed} passed, ${counts.failed} failed`;
    if (counts.skipped > 0) line += `, ${counts.skipped} skipped`;
    // Pending only survives to the end when the run was interrupted (bail, Ctrl-C).
    if (counts.pending > 0) line += `, ${counts.pending} not run`;
    if (errors > 0) line += `, ${errors} errors`;
    process.stdout.write(`${line}\n`);
  }
}
