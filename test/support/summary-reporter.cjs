// Mocha's spec reporter plus one plain closing line, `N passed, M failed`, so a run that executed
// no test (or lost some) is visible to CI and to people skimming a log. SHEPHERD_SUMMARY_PREFIX names a
// suite on that line (`team: N passed, M failed`).
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, () => passed++);
    runner.on(EVENT_TEST_FAIL, () => failed++);
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    // Registered after the spec reporter's own listener, so this prints after its epilogue; it must be
    // synchronous because mocha's --exit ends the process right after this event.
    runner.once(EVENT_RUN_END, () => {
      const tail = skipped ? `, ${skipped} skipped` : '';
      process.stdout.write(`\n${process.env.SHEPHERD_SUMMARY_PREFIX ?? ''}${passed} passed, ${failed} failed${tail}\n`);
    });
  }
}

module.exports = SummaryReporter;
