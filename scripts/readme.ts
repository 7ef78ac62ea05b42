/**
 * Keeps README.md in step with action.yml and examples/: rewrites the Inputs and Outputs tables and the embedded
 * example workflows between their markers.
 *
 *   npx tsx scripts/readme.ts          rewrite README.md in place
 *   npx tsx scripts/readme.ts --check  exit 1 when README.md differs from what would be written
 *
 * No YAML library is installed, so action.yml is read by the small reader below. It understands exactly the
 * subset action.yml uses (nested maps; plain, quoted and block scalars; comments) and refuses anything else
 * with the line number, rather than guessing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type YamlValue = string | YamlMap;
export type YamlMap = Map<string, YamlValue>;

/** Parses the YAML subset of action.yml: maps of maps and scalars. `file` names the source in errors. */
export function parseYaml(text: string, file = 'action.yml'): YamlMap {
  return new YamlReader(text.replace(/^\uFEFF/, ''), file).document();
}

class YamlReader {
  private readonly lines: string[];
  private index = 0;

  constructor(
    text: string,
    private readonly file: string,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  document(): YamlMap {
    this.skipIgnorable();
    const map = this.map(0);
    this.skipIgnorable();
    if (this.index < this.lines.length) this.fail('unexpected indentation');
    return map;
  }

  private fail(detail: string, line = this.index): never {
    throw new Error(`${this.file} line ${line + 1}: ${detail}`);
  }

  private line(at = this.index): string {
    return this.lines[at] ?? '';
  }

  private indentOf(at = this.index): number {
    const line = this.line(at);
    const indent = line.length - line.trimStart().length;
    if (line.slice(0, indent).includes('\t')) this.fail('tabs are not allowed in indentation', at);
    return indent;
  }

  /** Blank lines and whole-line comments carry nothing outside block scalars. */
  private skipIgnorable(): void {
    while (this.index < this.lines.length) {
      const trimmed = this.line().trim();
      if (trimmed !== '' && !trimmed.startsWith('#')) return;
      this.index += 1;
    }
  }

  private map(indent: number): YamlMap {
    const map: YamlMap = new Map();
    for (;;) {
      this.skipIgnorable();
      if (this.index >= this.lines.length) return map;
      const own = this.indentOf();
      if (own < indent) return map;
      if (own > indent) this.fail(`unexpected indentation (expected ${indent} spaces)`);
      const body = this.line().slice(own);
      if (body === '-' || body.startsWith('- ')) this.fail('sequences are not supported by this reader');
      const match = /^([A-Za-z0-9_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]+(.*))?$/.exec(body);
      if (!match) this.fail(`expected "key: value", found ${JSON.stringify(body.trimEnd())}`);
      const key = match[1] ?? '';
      if (map.has(key)) this.fail(`duplicate key "${key}"`);
      const keyLine = this.index;
      const rest = match[2] ?? '';
      this.index += 1;
      if (rest.trim() === '' || rest.trim().startsWith('#')) {
        this.skipIgnorable();
        const nested = this.index < this.lines.length && this.indentOf() > indent;
        map.set(key, nested ? this.map(this.indentOf()) : '');
        continue;
      }
      const header = stripComment(rest);
      if (/^[|>]/.test(header)) {
        map.set(key, this.blockScalar(header, indent, keyLine));
        continue;
      }
      map.set(key, this.scalar(rest, keyLine));
      this.skipIgnorable();
      if (this.index < this.lines.length && this.indentOf() > indent) {
        this.fail('multi-line plain or quoted scalars are not supported: use a >- block');
      }
    }
  }

  /** `>`/`|` blocks, with `-`/`+` chomping; the content is every following line indented deeper than the key. */
  private blockScalar(header: string, parentIndent: number, keyLine: number): string {
    const parsed = /^([|>])([+-]?)$/.exec(header);
    if (!parsed) this.fail(`unsupported block scalar header "${header}"`, keyLine);
    const [, style, chomp] = parsed;
    const content: string[] = [];
    let contentIndent: number | undefined;
    while (this.index < this.lines.length) {
      const line = this.line();
      if (line.trim() === '') {
        content.push('');
        this.index += 1;
        continue;
      }
      const own = this.indentOf();
      if (contentIndent === undefined) {
        if (own <= parentIndent) break;
        contentIndent = own;
      }
      if (own < contentIndent) {
        if (own > parentIndent) this.fail('block scalar line is indented less than its first line');
        break;
      }
      content.push(line.slice(contentIndent));
      this.index += 1;
    }
    let trailing = 0;
    while (content.length > 0 && content[content.length - 1] === '') {
      content.pop();
      trailing += 1;
    }
    const body = style === '>' ? fold(content) : content.join('\n');
    if (body === '') return '';
    if (chomp === '-') return body;
    if (chomp === '+') return `${body}\n${'\n'.repeat(trailing)}`;
    return `${body}\n`;
  }

  private scalar(raw: string, at: number): string {
    const text = raw.trim();
    if (text.startsWith('"')) return this.quoted(text, '"', at);
    if (text.startsWith("'")) return this.quoted(text, "'", at);
    if (/^[[{&*!%@`]/.test(text)) {
      this.fail(`flow collections, anchors, tags and directives are not supported: "${text}"`, at);
    }
    const value = stripComment(text);
    if (/:(\s|$)/.test(value)) this.fail(`a plain scalar cannot hold ": ", quote it: "${value}"`, at);
    return value;
  }

  private quoted(text: string, quote: '"' | "'", at: number): string {
    let value = '';
    let i = 1;
    for (; i < text.length; i++) {
      const char = text[i] ?? '';
      if (quote === "'" && char === "'") {
        if (text[i + 1] === "'") {
          value += "'";
          i += 1;
          continue;
        }
        break;
      }
      if (quote === '"' && char === '"') break;
      if (quote === '"' && char === '\\') {
        const [decoded, used] = this.escape(text, i + 1, at);
        value += decoded;
        i += used;
        continue;
      }
      value += char;
    }
    if (i >= text.length)
      this.fail(`unterminated ${quote}-quoted scalar (multi-line quotes are not supported)`, at);
    const after = text.slice(i + 1);
    if (after.trim() !== '' && !/^\s+#/.test(after))
      this.fail(`unexpected text after the closing quote: "${after}"`, at);
    return value;
  }

  /** Decodes the escape after a backslash at `start`; returns the text and how many characters it used. */
  private escape(text: string, start: number, at: number): [string, number] {
    const simple: Record<string, string> = {
      '0': '\0',
      a: '\x07',
      b: '\b',
      t: '\t',
      n: '\n',
      v: '\v',
      f: '\f',
      r: '\r',
      e: '\x1b',
      ' ': ' ',
      '"': '"',
      '/': '/',
      '\\': '\\',
      N: '\u0085',
      _: '\u00a0',
      L: '\u2028',
      P: '\u2029',
    };
    const char = text[start] ?? '';
    const known = simple[char];
    if (known !== undefined) return [known, 1];
    const width = char === 'x' ? 2 : char === 'u' ? 4 : char === 'U' ? 8 : 0;
    const hex = text.slice(start + 1, start + 1 + width);
    if (width === 0 || !new RegExp(`^[0-9A-Fa-f]{${width}}$`).test(hex)) {
      this.fail(`invalid escape "\\${char}" in a double-quoted scalar`, at);
    }
    return [String.fromCodePoint(Number.parseInt(hex, 16)), 1 + width];
  }
}

/** Drops a trailing ` # comment` from a plain value. */
function stripComment(text: string): string {
  const hash = text.search(/(^|\s)#/);
  return (hash < 0 ? text : text.slice(0, hash)).trim();
}

/** YAML line folding: lines join with a space, blank lines become line breaks, more-indented lines stay as is. */
function fold(lines: readonly string[]): string {
  let result = '';
  let breaks = 0;
  let started = false;
  let previousMore = false;
  for (const line of lines) {
    if (line === '') {
      breaks += 1;
      continue;
    }
    const more = line.startsWith(' ') || line.startsWith('\t');
    if (!started) result += '\n'.repeat(breaks);
    else if (breaks > 0) result += '\n'.repeat(more || previousMore ? breaks + 1 : breaks);
    else result += more || previousMore ? '\n' : ' ';
    result += line;
    started = true;
    breaks = 0;
    previousMore = more;
  }
  return result;
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
  return { inputs: fields(root, 'inputs', file), outputs: fields(root, 'outputs', file) };
}

function fields(root: YamlMap, section: 'inputs' | 'outputs', file: string): ActionField[] {
  const node = root.get(section);
  if (node === undefined || node === '') return [];
  if (typeof node === 'string') throw new Error(`${file}: "${section}" must be a map`);
  return [...node].map(([name, value]) => {
    const what = `${file}: ${section}.${name}`;
    if (typeof value === 'string') throw new Error(`${what} must be a map with a description`);
    const description = value.get('description');
    if (typeof description !== 'string' || description.trim() === '') {
      throw new Error(`${what} has no description`);
    }
    const required = value.get('required');
    if (required !== undefined && required !== 'true' && required !== 'false') {
      throw new Error(`${what}.required must be true or false`);
    }
    const fallback = value.get('default');
    if (fallback !== undefined && typeof fallback !== 'string')
      throw new Error(`${what}.default must be a scalar`);
    return { name, description: description.trim(), required: required === 'true', default: fallback };
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
export function replaceBetween(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`README.md has no "${start}" … "${end}" markers`);
  if (text.indexOf(start, from + 1) >= 0 || text.indexOf(end, to + 1) >= 0) {
    throw new Error(`README.md has "${start}" or "${end}" more than once`);
  }
  if (to < from) throw new Error(`README.md has "${end}" before "${start}"`);
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
  for (const name of new Set([...readme.matchAll(EXAMPLE_MARKER)].map((m) => m[1] ?? ''))) {
    text = replaceBetween(text, `example:${name}`, `\`\`\`yaml\n${sources.example(name).trimEnd()}\n\`\`\``);
  }
  return text;
}

/** The first line where two texts differ, for a readable drift message. */
export function firstDifference(actual: string, expected: string): string | undefined {
  if (actual === expected) return undefined;
  const a = actual.split('\n');
  const b = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n  README.md: ${a[i] ?? '(end of file)'}\n  expected:  ${b[i] ?? '(end of file)'}`;
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
  const path = resolve(ROOT, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const expected = renderReadme(readme, projectSources());
  const difference = firstDifference(readme, expected);
  if (difference === undefined) {
    process.stdout.write('README.md is up to date with action.yml and examples/\n');
    return 0;
  }
  if (args.includes('--check')) {
    process.stderr.write(
      `README.md differs from action.yml or examples/ at ${difference}\nRun: npx tsx scripts/readme.ts\n`,
    );
    return 1;
  }
  writeFileSync(path, expected);
  process.stdout.write('README.md updated from action.yml and examples/\n');
  return 0;
}

const invoked = process.argv[1];
if (invoked !== undefined && resolve(invoked) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
