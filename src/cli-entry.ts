#!/usr/bin/env node
import { cli } from './cli.js';
import { failIfUnsettled, UNSETTLED_MESSAGE } from './unsettled.js';

// exitCode rather than process.exit, so pending output is flushed and connections close cleanly.
const run = cli(process.argv.slice(2), process.env).then((code) => {
  process.exitCode = code;
});
// A run that never settles exits 1, not 0 with nothing done.
failIfUnsettled(run, () => {
  process.stderr.write(`manifest-merge: ${UNSETTLED_MESSAGE}\n`);
  process.exitCode = 1;
});
