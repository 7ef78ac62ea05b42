import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  firstDifference,
  GENERATED,
  inputsTable,
  outputsTable,
  parseYaml,
  projectSources,
  readActionMetadata,
  renderReadme,
  replaceBetween,
  tableCell,
} from '../scripts/readme.js';
import { INPUT } from '../src/input-names.js';
import { DEFAULTS } from '../src/inputs.js';

const ROOT = resolve(import.meta.dirname, '..');
const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

describe('reading action.yml (the yaml package)', () => {
  const field = (yaml: string) => readActionMetadata(`inputs:\n  a:\n${yaml}`).inputs[0];

  test('folded and literal descriptions, as action.yml writes them', () => {
    expect(field('    description: >-\n      one\n      two\n')?.description).toBe('one two');
    expect(field('    description: |\n      one\n      two\n')?.description).toBe('one\ntwo');
    expect(field('    description: "`true` if \\"any\\""\n')?.description).toBe('`true` if "any"');
  });

  test('required as a boolean or a string; defaults as the text the runner passes', () => {
    expect(field('    description: x\n    required: true\n')?.required).toBe(true);
    expect(field('    description: x\n    required: "false"\n')?.required).toBe(false);
    expect(field(`    description: x\n    default: \${{ github.token }}\n`)?.default).toBe(
      `\${{ github.token }}`,
    );
    expect(field('    description: x\n    default: "false"\n')?.default).toBe('false');
    expect(field('    description: x\n    default: 120\n')?.default).toBe('120');
    expect(field('    description: x\n')?.default).toBeUndefined();
  });

  test('keeps the order of the file', () => {
    const metadata = readActionMetadata('inputs:\n  b: {description: B}\n  a: {description: A}\n');
    expect(metadata.inputs.map((i) => i.name)).toEqual(['b', 'a']);
  });

  test.each([
    [
      'a duplicate key',
      'inputs:\n  a: {description: x}\n  a: {description: y}\n',
      /action\.yml: .*unique.*line 3/is,
    ],
    ['broken YAML', 'inputs:\n  a: [description\n', /action\.yml: .*line \d+/is],
    ['a section that is not a map', 'inputs: [a, b]\n', /action\.yml: "inputs" must be a map/],
  ])('refuses %s with the place', (_name, text, message) => {
    expect(() => readActionMetadata(text)).toThrow(message);
  });

  test('parseYaml gives plain values', () => {
    expect(parseYaml('a:\n  b: [1, "2"]\n')).toEqual({ a: { b: [1, '2'] } });
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
      'images',
      'digests',
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
  test.each(GENERATED.map(([file, render]) => [file, render] as const))(
    '%s matches action.yml and examples/ (else run: npx tsx scripts/readme.ts)',
    (file, render) => {
      const text = readFileSync(resolve(ROOT, file), 'utf8');
      const difference = firstDifference(text, render(text, projectSources(ROOT)), file);
      expect(
        difference,
        `${file} is out of date at ${difference}\nRun: npx tsx scripts/readme.ts`,
      ).toBeUndefined();
    },
  );

  test('docs/workflows.md embeds the complete example workflow, which the README links to', () => {
    const workflows = readFileSync(resolve(ROOT, 'docs/workflows.md'), 'utf8');
    expect(workflows).toContain('<!-- example:docker-build:start -->');
    expect(workflows).toContain(projectSources(ROOT).example('docker-build').trimEnd());
    expect(readme).toContain('(examples/docker-build.yml)');
  });

  const firstScreen = readme.split('\n').slice(0, 60).join('\n');

  test('opens with a usage snippet of ten lines at most, before any heading', () => {
    const first = /```yaml\n([\s\S]*?)```/.exec(readme);
    expect(first?.[1]).toMatch(/^- uses: manifest-merge\/manifest-merge@v\d+\n/);
    expect(first?.[1]?.trimEnd().split('\n').length).toBeLessThanOrEqual(10);
    expect(readme.indexOf('```yaml')).toBeLessThan(readme.indexOf('\n## '));
  });

  test('says early that no Docker daemon or buildx is needed, and compares with imagetools create', () => {
    expect(firstScreen).toContain('No Docker daemon or buildx needed');
    expect(firstScreen).toContain('## Before and after');
    expect(firstScreen).toContain(
      "docker buildx imagetools create -t ghcr.io/org/app:latest $(printf 'ghcr.io/org/app@sha256:%s ' *)",
    );
  });

  test('lists every section in its table of contents', () => {
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1] ?? '');
    const contents = readme.slice(
      readme.indexOf('## Contents'),
      readme.indexOf('\n## ', readme.indexOf('## Contents') + 1),
    );
    const missing = headings
      .filter((heading) => !['Contents', 'License', 'Before and after'].includes(heading))
      .filter((heading) => !contents.includes(`](#${[...anchorsOf(`## ${heading}`)][0]})`));
    expect(missing).toEqual([]);
  });

  test('shows a job summary and the log of a second run that writes nothing', () => {
    expect(readme).toMatch(/> ### Published `sha256:/);
    expect(readme).toMatch(/already serves sha256:[0-9a-f]{64}\n/);
    expect(readme).toContain('written: false');
  });

  test('gives two commands to try it, and CI runs exactly them', () => {
    const blocks = [...readme.matchAll(/```sh\n([^\n]*)\n```/g)].map((m) => m[1]);
    expect(blocks).toEqual(
      expect.arrayContaining(['.ci/setup && npm run demo', '.ci/setup && npm test && npm run test:itg']),
    );
    // As root in a fresh container: no sudo there, and no package lists before an update.
    expect(readme).not.toMatch(/\bsudo\b/);
    expect(readme).toContain('apt-get update && apt-get install -y docker-registry');
    const ci = readFileSync(resolve(ROOT, '.ci/run'), 'utf8').split('\n');
    for (const command of ['.ci/setup', 'npm test', 'npm run test:itg', 'npm run demo'])
      expect(ci).toContain(command);
    const setup = readFileSync(resolve(ROOT, '.ci/setup'), 'utf8');
    expect(setup).toMatch(/id -u[\s\S]*apt-get install -y/);
    expect(setup).toContain('npm ci');
  });

  test('says the EBADENGINE warnings of npm ci are expected, and how to stop the Debian registry service', () => {
    expect(readme).toMatch(/npm ci[^.]*EBADENGINE warnings[^.]*expected/);
    expect(readme).toContain('systemctl disable --now docker-registry');
    expect(readme).toContain('MANIFEST_MERGE_REGISTRY_BIN');
  });

  test('documents every input and output by name', () => {
    const metadata = readActionMetadata(projectSources(ROOT).actionYml);
    for (const field of [...metadata.inputs, ...metadata.outputs])
      expect(readme).toContain(`| \`${field.name}\` |`);
  });

  test('names no machine paths', () => {
    expect(readme).not.toMatch(/\/(?:home|Users|work|tmp)\/[\w.-]+\//);
  });

  test('stays under 20 KB: longer material lives in docs/', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(20_000);
  });

  test('says how to get the CLI, and its version flag', () => {
    expect(readme).toMatch(/npm install -g github:[\w-]+\/[\w-]+#v\d+\.\d+\.\d+/);
    expect(readme).toContain('npm install -g .');
    expect(readme).toContain('--version');
    expect(readme).toContain('--password-stdin');
  });
});

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6} +(.+)$/gm)) {
    anchors.add(
      (heading ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

describe('links in the README and docs/', () => {
  const files = [
    'README.md',
    ...readdirSync(resolve(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];

  test.each(files)('%s links only to files and headings that exist', (file) => {
    const text = readFileSync(resolve(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const linked = path === '' ? resolve(ROOT, file) : resolve(ROOT, dirname(file), path);
      if (!existsSync(linked)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (
        anchor !== undefined &&
        linked.endsWith('.md') &&
        !anchorsOf(readFileSync(linked, 'utf8')).has(anchor)
      )
        broken.push(`${target}: no such heading`);
    }
    expect(broken).toEqual([]);
  });
});
