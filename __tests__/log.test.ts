import { expect, test } from 'vitest';
import { consoleLogger, printable } from '../src/log.js';

test.each([
  ['plain text stays', 'linux/arm64: sha256:abc (from x)', 'linux/arm64: sha256:abc (from x)'],
  ['a newline cannot start a command line', 'v7\n::warning::x', 'v7\\n::warning::x'],
  ['carriage returns too', 'a\r::add-mask::b', 'a\\r::add-mask::b'],
  ['a leading command is defused', '::stop-commands::tok', '\\::stop-commands::tok'],
  ['after leading spaces too', '  ::error::x', '\\::error::x'],
  ['terminal escapes are shown, not run', '\u001b[2Jgone', '\\u001b[2Jgone'],
  ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
  ['printable non-ASCII stays', 'größe ✓', 'größe ✓'],
])('printable: %s', (_name, input, expected) => {
  expect(printable(input)).toBe(expected);
  expect(printable(input).split('\n')).toHaveLength(1);
});

test('the CLI logger masks and escapes every line, the last error line included', () => {
  const lines: string[] = [];
  const log = consoleLogger({ debug: true, write: (line) => lines.push(line) });
  log.secret('hunter2-secret');
  log.info('registry said: hunter2-secret\n::warning::x');
  log.debug(`Basic ${Buffer.from('hunter2-secret').toString('base64')}`);
  log.error('401 for hunter2-secret');
  expect(lines).toEqual([
    'registry said: ***\\n::warning::x',
    'debug: Basic ***',
    'manifest-merge: 401 for ***',
  ]);
});
