#!/usr/bin/env node
import { cli } from './cli.js';

// exitCode rather than process.exit, so pending output is flushed and connections close cleanly.
void cli(process.argv.slice(2), process.env).then((code) => {
  process.exitCode = code;
});
