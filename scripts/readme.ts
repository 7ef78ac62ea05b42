/**
 * Keeps README.md and docs/ in step with action.yml and examples/: rewrites the README's Inputs and Outputs
 * tables, and the example workflows embedded between their markers in the README and in docs/workflows.md.
 *
 *   npx tsx scripts/readme.ts          rewrite them in place
 *   npx tsx scripts/readme.ts --check  exit 1 when one differs from what would be written
 *
 * action.yml is read with the `yaml` package; a malformed file or a duplicate
 * key is refused with its line and column.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

/** Parses a YAML document into plain values; `file` names the source in errors. Refuses duplicate keys. */
export function parseYaml(text: string, file = 'action.yml'): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [error] = document.errors;
  if (error) throw new Error(`${file}: ${error.message}`);
  return document.toJS();
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One input or output as action.yml declares it. */
export interface ActionField {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  readonly default: string | undefined;
}

export interface ActionMetadata {
  readonly inputs: readonly ActionField[];
  readonly outputs: readonly ActionField[];
}

/** Reads the inputs and outputs of an action.yml, in file order; every one must have a description. */
export function readActionMetadata(text: string, file = 'action.yml'): ActionMetadata {
  const root = parseYaml(text, file);
  if (!isMap(root)) throw new Error(`${file}: the document must be a map`);
  return { inputs: fields(root, 'inputs', file), outputs: fields(root, 'outputs', file) };
}

function fields(root: Record<string, unknown>, section: 'inputs' | 'outputs', file: string): ActionField[] {
  const node = root[section];
  if (node === undefined || node === null) return [];
  if (!isMap(node)) throw new Error(`${file}: "${section}" must be a map`);
  return Object.entries(node).map(([name, value]) => {
    const what = `${file}: ${section}.${name}`;
    if (!isMap(value)) throw new Error(`${what} must be a map with a description`);
    const description = value['description'];
    if (typeof description !== 'string' || description.trim() === '') {
      throw new Error(`${what} has no description`);
    }
    // The runner takes `true` and `"true"` alike; anything else is a mistake worth stopping for.
    const required = value['required'];
    if (required !== undefined && ![true, false, 'true', 'false'].includes(required as boolean | string)) {
      throw new Error(`${what}.required must be true or false`);
    }
    const fallback = value['default'];
    if (fallback !== undefined && !['string', 'number', 'boolean'].includes(typeof fallback)) {
      throw new Error(`${what}.default must be a scalar`);
    }
    return {
      name,
      description: description.trim(),
      required: required === true || required === 'true',
      default: fallback === undefined ? undefined : String(fallback),
    };
  });
}

/** Text for one Markdown table cell: one line, pipes escaped (GitHub honours `\|` inside code spans too). */
export function tableCell(text: string): string {
  return text
    .trim()
    .replace(/\s*\n\s*\n\s*/g, '<br><br>')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|');
}

function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  const pad = text.includes('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

export function inputsTable(inputs: readonly ActionField[]): string {
  const rows = inputs.map((input) => {
    const fallback = input.required
      ? '**required**'
      : input.default === undefined
        ? '—'
        : code(input.default === '' ? '""' : input.default);
    return `| ${tableCell(code(input.name))} | ${tableCell(fallback)} | ${tableCell(input.description)} |`;
  });
  return ['| Input | Default | Description |', '| --- | --- | --- |', ...rows].join('\n');
}

export function outputsTable(outputs: readonly ActionField[]): string {
  const rows = outputs.map(
    (output) => `| ${tableCell(code(output.name))} | ${tableCell(output.description)} |`,
  );
  return ['| Output | Description |', '| --- | --- |', ...rows].join('\n');
}

const EXAMPLE_MARKER = /<!-- example:([a-z0-9-]+):start -->/g;

/** Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->`; each marker must appear once. */
export function replaceBetween(text: string, name: string, content: string, file = 'README.md'): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`${file} has no "${start}" … "${end}" markers`);
  if (text.indexOf(start, from + 1) >= 0 || text.indexOf(end, to + 1) >= 0) {
    throw new Error(`${file} has "${start}" or "${end}" more than once`);
  }
  if (to < from) throw new Error(`${file} has "${end}" before "${start}"`);
  return `${text.slice(0, from)}${start}\n${content}\n${text.slice(to)}`;
}

export interface ReadmeSources {
  /** The text of action.yml. */
  readonly actionYml: string;
  /** The text of examples/<name>.yml, for each `<!-- example:<name>:start -->` marker in the README. */
  readonly example: (name: string) => string;
}

/** The README as it should be: tables from action.yml, example workflows from examples/. */
export function renderReadme(readme: string, sources: ReadmeSources): string {
  const metadata = readActionMetadata(sources.actionYml);
  let text = replaceBetween(readme, 'inputs', inputsTable(metadata.inputs));
  text = replaceBetween(text, 'outputs', outputsTable(metadata.outputs));
  return renderExamples(text, sources);
}

/** A Markdown file with each `<!-- example:<name>:start -->` block filled from examples/<name>.yml. */
export function renderExamples(
  markdown: string,
  sources: Pick<ReadmeSources, 'example'>,
  file = 'README.md',
): string {
  let text = markdown;
  for (const name of new Set([...markdown.matchAll(EXAMPLE_MARKER)].map((m) => m[1] ?? ''))) {
    const block = `\`\`\`yaml\n${sources.example(name).trimEnd()}\n\`\`\``;
    text = replaceBetween(text, `example:${name}`, block, file);
  }
  return text;
}

/** Every generated file, by its path from the root, with how it is rendered. */
export const GENERATED: readonly (readonly [string, (text: string, sources: ReadmeSources) => string])[] = [
  ['README.md', renderReadme],
  ['docs/workflows.md', (text, sources) => renderExamples(text, sources, 'docs/workflows.md')],
];

/** The first line where two texts differ, for a readable drift message. */
export function firstDifference(actual: string, expected: string, file = 'README.md'): string | undefined {
  if (actual === expected) return undefined;
  const a = actual.split('\n');
  const b = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n  ${file}: ${a[i] ?? '(end of file)'}\n  expected:  ${b[i] ?? '(end of file)'}`;
    }
  }
  return 'line endings differ';
}

/** The project root, found from this file so the script works from any working directory. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function projectSources(root = ROOT): ReadmeSources {
  return {
    actionYml: readFileSync(resolve(root, 'action.yml'), 'utf8'),
    example: (name) => readFileSync(resolve(root, 'examples', `${name}.yml`), 'utf8'),
  };
}

function main(args: readonly string[]): number {
  const unknown = args.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(
      `readme: unknown argument "${unknown[0]}"\nusage: tsx scripts/readme.ts [--check]\n`,
    );
    return 2;
  }
  let status = 0;
  for (const [file, render] of GENERATED) {
    const path = resolve(ROOT, file);
    const text = readFileSync(path, 'utf8');
    const expected = render(text, projectSources());
    const difference = firstDifference(text, expected, file);
    if (difference === undefined) {
      process.stdout.write(`${file} is up to date with action.yml and examples/\n`);
    } else if (args.includes('--check')) {
      process.stderr.write(
        `${file} differs from action.yml or examples/ at ${difference}\nRun: npx tsx scripts/readme.ts\n`,
      );
      status = 1;
    } else {
      writeFileSync(path, expected);
      process.stdout.write(`${file} updated from action.yml and examples/\n`);
    }
  }
  return status;
}

const invoked = process.argv[1];
if (invoked !== undefined && resolve(invoked) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
