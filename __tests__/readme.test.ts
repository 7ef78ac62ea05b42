import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  firstDifference,
  inputsTable,
  outputsTable,
  parseYaml,
  projectSources,
  readActionMetadata,
  renderReadme,
  replaceBetween,
  tableCell,
  type YamlMap,
} from '../scripts/readme.js';
import { INPUT } from '../src/input-names.js';
import { DEFAULTS } from '../src/inputs.js';

const ROOT = resolve(import.meta.dirname, '..');
const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

/** Converts parsed YAML to plain objects, for readable comparisons. */
function plain(map: YamlMap): Record<string, unknown> {
  return Object.fromEntries([...map].map(([k, v]) => [k, typeof v === 'string' ? v : plain(v)]));
}

describe('the YAML reader', () => {
  test('reads nested maps, comments and blank lines', () => {
    const text = [
      '# leading comment',
      'name: app',
      '',
      'inputs:',
      '  # a comment inside',
      '  image:',
      '    required: true # trailing comment',
      '',
      '    description: The image.',
      'runs:',
      '  using: node24',
    ].join('\n');
    expect(plain(parseYaml(text))).toEqual({
      name: 'app',
      inputs: { image: { required: 'true', description: 'The image.' } },
      runs: { using: 'node24' },
    });
  });

  test.each([
    ['plain', 'key: a plain value', 'a plain value'],
    ['plain with #', 'key: C# and a#b # comment', 'C# and a#b'],
    ['expression', `key: \${{ github.token }}`, `\${{ github.token }}`],
    ['double-quoted', 'key: "`true` if \\"any\\": a\\tb \\u00e9 \\\\"', '`true` if "any": a\tb é \\'],
    ['double-quoted with comment', 'key: "false" # a string', 'false'],
    ['single-quoted', 'key: \'JSON `{"a":"b"}`, it\'\'s\'', 'JSON `{"a":"b"}`, it\'s'],
    ['empty quotes', 'key: ""', ''],
  ])('%s scalar', (_name, line, value) => {
    expect(parseYaml(line).get('key')).toBe(value);
  });

  test.each([
    ['>-', 'one two\nthree'],
    ['>', 'one two\nthree\n'],
    ['|-', 'one\ntwo\n\nthree'],
    ['|', 'one\ntwo\n\nthree\n'],
    ['|+', 'one\ntwo\n\nthree\n\n'],
  ])('block scalar %s', (header, value) => {
    const text = `key: ${header}\n  one\n  two\n\n  three\n\nnext: x\n`;
    const map = parseYaml(text);
    expect(map.get('key')).toBe(value);
    expect(map.get('next')).toBe('x');
  });

  test('a folded block keeps more-indented lines and # lines as text', () => {
    const text = 'key: >-\n  a\n    indented\n  # not a comment\nnext: y';
    expect(parseYaml(text).get('key')).toBe('a\n  indented\n# not a comment');
  });

  test('CRLF line endings and a byte-order mark', () => {
    expect(plain(parseYaml('\uFEFFa:\r\n  b: >-\r\n    c\r\n    d\r\n'))).toEqual({ a: { b: 'c d' } });
  });

  test.each([
    ['a sequence', 'inputs:\n  - image', /line 2: sequences are not supported/],
    ['a flow map', 'key: {a: b}', /line 1: flow collections/],
    ['an anchor', 'key: &x value', /line 1: flow collections, anchors/],
    ['a tab', 'a:\n\tb: c', /line 2: tabs/],
    ['a duplicate key', 'a: 1\na: 2', /line 2: duplicate key "a"/],
    ['bad indentation', 'a:\n    b: 1\n  c: 2', /line 3: unexpected indentation/],
    ['a multi-line plain scalar', 'a: one\n  two', /line 2: multi-line plain or quoted scalars/],
    ['an open quote', 'a: "one', /line 1: unterminated "-quoted scalar/],
    ['text after a quote', 'a: "one" two', /line 1: unexpected text after the closing quote/],
    ['": " in a plain scalar', 'a: b: c', /line 1: a plain scalar cannot hold ": "/],
    ['an unknown escape', 'a: "\\q"', /line 1: invalid escape "\\q"/],
    ['an indentation indicator', 'a: >2\n  x', /line 1: unsupported block scalar header ">2"/],
    ['not a key', 'just text', /line 1: expected "key: value"/],
  ])('refuses %s with the line number', (_name, text, message) => {
    expect(() => parseYaml(text)).toThrow(message);
  });
});

describe('action metadata', () => {
  const metadata = readActionMetadata(projectSources(ROOT).actionYml);

  test('lists every input the parser knows, in the order of action.yml', () => {
    expect(metadata.inputs.map((i) => i.name).sort()).toEqual(Object.values(INPUT).sort());
  });

  test('declares the defaults the parser applies', () => {
    const declared = Object.fromEntries(
      metadata.inputs.flatMap((i) => (i.default === undefined ? [] : [[i.name, i.default]])),
    );
    expect(declared).toEqual({ ...DEFAULTS, [INPUT.githubToken]: `\${{ github.token }}` });
  });

  test('marks image and tags required, nothing else', () => {
    expect(metadata.inputs.filter((i) => i.required).map((i) => i.name)).toEqual([INPUT.image, INPUT.tags]);
  });

  test('has the outputs of the contract', () => {
    expect(metadata.outputs.map((o) => o.name)).toEqual([
      'digest',
      'ref',
      'tags',
      'platform-digests',
      'platform-refs',
      'manifest',
      'written',
    ]);
  });

  test('refuses an input without a description', () => {
    expect(() => readActionMetadata('inputs:\n  a:\n    required: true\n')).toThrow(
      'action.yml: inputs.a has no description',
    );
    expect(() => readActionMetadata('inputs:\n  a:\n    description: x\n    required: yes\n')).toThrow(
      'inputs.a.required must be true or false',
    );
  });
});

describe('tables', () => {
  test('one row per field, with required, default or a dash', () => {
    const table = inputsTable([
      { name: 'a', description: 'A.', required: true, default: undefined },
      { name: 'b', description: 'B\nwrapped.', required: false, default: '1' },
      { name: 'c', description: 'C.', required: false, default: undefined },
      { name: 'd', description: 'D.', required: false, default: '' },
    ]);
    expect(table.split('\n')).toEqual([
      '| Input | Default | Description |',
      '| --- | --- | --- |',
      '| `a` | **required** | A. |',
      '| `b` | `1` | B wrapped. |',
      '| `c` | — | C. |',
      '| `d` | `""` | D. |',
    ]);
    expect(outputsTable([{ name: 'x', description: 'X.', required: false, default: undefined }])).toBe(
      '| Output | Description |\n| --- | --- |\n| `x` | X. |',
    );
  });

  test('cells stay on one line and escape pipes', () => {
    expect(tableCell(' a | b\nc\n\nd ')).toBe('a \\| b c<br><br>d');
  });
});

describe('markers', () => {
  test('replace only what lies between them', () => {
    const text = 'head\n<!-- x:start -->\nold\n<!-- x:end -->\ntail\n';
    expect(replaceBetween(text, 'x', 'new')).toBe('head\n<!-- x:start -->\nnew\n<!-- x:end -->\ntail\n');
  });

  test('missing, repeated or reversed markers are an error', () => {
    expect(() => replaceBetween('nothing', 'x', '')).toThrow('no "<!-- x:start -->"');
    expect(() => replaceBetween('<!-- x:start --><!-- x:start --><!-- x:end -->', 'x', '')).toThrow(
      'more than once',
    );
    expect(() => replaceBetween('<!-- x:end --><!-- x:start -->', 'x', '')).toThrow('before');
  });

  test('example markers embed the example file as a yaml block', () => {
    const text = [
      '<!-- inputs:start -->',
      '<!-- inputs:end -->',
      '<!-- outputs:start -->',
      '<!-- outputs:end -->',
      '<!-- example:demo:start -->',
      'stale',
      '<!-- example:demo:end -->',
    ].join('\n');
    const rendered = renderReadme(text, { actionYml: 'name: x\n', example: () => 'on: push\n\n' });
    expect(rendered).toContain(
      '<!-- example:demo:start -->\n```yaml\non: push\n```\n<!-- example:demo:end -->',
    );
  });
});

describe('README.md', () => {
  test('matches action.yml and examples/ (else run: npx tsx scripts/readme.ts)', () => {
    const expected = renderReadme(readme, projectSources(ROOT));
    const difference = firstDifference(readme, expected);
    expect(
      difference,
      `README.md is out of date at ${difference}\nRun: npx tsx scripts/readme.ts`,
    ).toBeUndefined();
  });

  test('embeds the complete example workflow', () => {
    expect(readme).toContain('<!-- example:docker-build:start -->');
    expect(readme).toContain(projectSources(ROOT).example('docker-build').trimEnd());
  });

  test('keeps the newcomer commands, and CI runs exactly its test commands', () => {
    const commands = [
      'apt-get install -y docker-registry',
      'npm ci',
      'npm test',
      'npm run test:itg',
      'npm run demo',
    ];
    for (const command of commands) expect(readme).toContain(command);
    expect(readme).not.toMatch(/^sudo /m);
    const ci = readFileSync(resolve(ROOT, '.ci/run'), 'utf8').split('\n');
    for (const command of ['npm test', 'npm run test:itg']) expect(ci).toContain(command);
  });

  test('documents every input and output by name', () => {
    const metadata = readActionMetadata(projectSources(ROOT).actionYml);
    for (const field of [...metadata.inputs, ...metadata.outputs])
      expect(readme).toContain(`| \`${field.name}\` |`);
  });

  test('names no machine paths', () => {
    expect(readme).not.toMatch(/\/(?:home|Users|work|tmp)\/[\w.-]+\//);
  });
});
