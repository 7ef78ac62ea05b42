import { expect, test } from 'vitest';
import { consoleLogger, counted, printable, printableJson, secretParts } from '../src/log.js';

test.each([
  ['plain text stays', 'linux/arm64: sha256:abc (from x)', 'linux/arm64: sha256:abc (from x)'],
  ['a newline cannot start a command line', 'v7\n::warning::x', 'v7\\n::warning::x'],
  ['carriage returns too', 'a\r::add-mask::b', 'a\\r::add-mask::b'],
  ['a leading command is defused', '::stop-commands::tok', '\\::stop-commands::tok'],
  ['after leading spaces too', '  ::error::x', '\\::error::x'],
  ['terminal escapes are shown, not run', '\u001b[2Jgone', '\\u001b[2Jgone'],
  ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
  ['printable non-ASCII stays', 'größe ✓', 'größe ✓'],
  ['a legacy command anywhere in the line', 'title=x ##[add-mask]tok', 'title=x ##\\[add-mask]tok'],
  [
    'every one of them',
    '##[set-output name=a;]b ###[stop-commands]',
    '##\\[set-output name=a;]b ###\\[stop-commands]',
  ],
  ['a lone # or [ stays', 'issue #12 [draft]', 'issue #12 [draft]'],
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

test('printable leaves no legacy command and no leading :: in any input', () => {
  for (const text of ['##[##[x', '#\n##[x', '::##[', '  ##[::', '#[##[[']) {
    const line = printable(text);
    expect(line).not.toContain('##[');
    expect(line).not.toMatch(/^\s*::/);
  }
});

test('JSON for stdout has no ##[ and parses to the same value', () => {
  const value = { manifest: '{"a":"##[set-output name=digest;]x"}', tags: ['##[add-mask]y'] };
  const text = printableJson(value);
  expect(text).not.toContain('##[');
  expect(JSON.parse(text)).toEqual(value);
  expect(text.split('\n').filter((line) => /^\s*::/.test(line))).toEqual([]);
});

test.each([
  ['one line: the value', 'hunter2-secret', ['hunter2-secret']],
  [
    'each line too, trimmed',
    'first-line\r\n  second-line  \n',
    ['first-line\r\n  second-line  \n', 'first-line', 'second-line'],
  ],
  [
    'short lines are left out',
    '{\n  "private_key": "k3y"\n}',
    ['{\n  "private_key": "k3y"\n}', '"private_key": "k3y"'],
  ],
  ['nothing for nothing', '', []],
])('secretParts: %s', (_name, value, parts) => {
  expect(secretParts(value)).toEqual(parts);
});

test('the CLI masks each line of a multi-line secret, wherever a line shows up alone', () => {
  const lines: string[] = [];
  const log = consoleLogger({ debug: false, write: (line) => lines.push(line) });
  log.secret('first-secret-line\nsecond-secret-line');
  log.info('echoed: first-secret-line / second-secret-line');
  log.info(`basic: ${Buffer.from('second-secret-line').toString('base64')}`);
  expect(lines).toEqual(['echoed: *** / ***', 'basic: ***']);
});

test('a count names its noun in the singular for one only', () => {
  expect([0, 1, 2].map((n) => counted(n, 'platform'))).toEqual(['0 platforms', '1 platform', '2 platforms']);
});
