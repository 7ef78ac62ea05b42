import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type CliIo, cli, VERSION } from '../src/cli.js';
import type { Clock } from '../src/clock.js';
import { INPUT, InputError } from '../src/input-names.js';
import type { Inputs } from '../src/inputs.js';
import type { Logger } from '../src/log.js';
import { checkAnnotations } from '../src/run.js';

/** The CLI in-process, up to the point where it would reach a registry: no test here opens a connection. */
const ROOT = resolve(import.meta.dirname, '..');
const DIGEST = `sha256:${'a'.repeat(64)}`;
const BASE = ['--image', 'localhost:5000/app'];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(
  argv: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  let stdout = '';
  const stderr: string[] = [];
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (line) => stderr.push(line),
    readStdin: () => {
      if (options.stdin === undefined) throw new Error('the test gave no standard input');
      return options.stdin;
    },
  };
  const code = await cli(argv, options.env ?? {}, io);
  return { code, stdout, stderr: stderr.join('\n') };
}

const scratch = mkdtempSync(join(tmpdir(), 'cli-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('--version and --help', () => {
  test('--version prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(await run(['--version'])).toEqual({
      code: 0,
      stdout: `manifest-merge ${pkg.version}\n`,
      stderr: '',
    });
  });

  test('--help lists every input as a flag, and every other flag', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    const flags = [...Object.values(INPUT), 'tag', 'source', 'password-stdin', 'debug', 'help', 'version'];
    for (const flag of flags)
      expect(stdout).toMatch(new RegExp(`^ +(?:-h, )?(?:--[\\w-]+, )?--${flag}\\b`, 'm'));
    expect(stdout).toMatch(/--password PASS +avoid: other users see it in the process list/);
  });

  test('--help says what plain-http auto means, and what ordering by revision needs', async () => {
    const { stdout } = await run(['--help']);
    expect(stdout).toMatch(/--plain-http MODE .*auto: HTTP for localhost, 127\.0\.0\.0\/8 and \[::1\] only/);
    const orderBy = stdout.slice(stdout.indexOf('--order-by'), stdout.indexOf('--wait-timeout'));
    for (const needed of [
      '$GITHUB_REPOSITORY',
      '$GITHUB_TOKEN',
      '--github-token',
      '$GITHUB_API_URL',
      '$GITHUB_SHA',
    ])
      expect(orderBy).toContain(needed);
  });

  test('-h is --help; the help fits a terminal', async () => {
    const { stdout } = await run(['-h']);
    expect(stdout).toContain('Usage: manifest-merge');
    const long = stdout.split('\n').filter((line) => line.length > 112);
    expect(long).toEqual([]);
  });
});

describe('usage errors: exit 2, worded for a terminal', () => {
  const folders = join(scratch, 'downloaded');
  mkdirSync(join(folders, 'digests-amd64'), { recursive: true });
  mkdirSync(join(folders, 'digests-arm64'), { recursive: true });

  test.each([
    ['an unknown flag', ['--frobnicate'], /^manifest-merge: unknown flag --frobnicate$/m],
    [
      'a typo',
      [...BASE, '--sorce', DIGEST],
      /^manifest-merge: unknown flag --sorce: did you mean --source\?$/m,
    ],
    ['swapped letters', ['--imgae', 'x'], /^manifest-merge: unknown flag --imgae: did you mean --image\?$/m],
    ['a missing dash', ['--dryrun'], /unknown flag --dryrun: did you mean --dry-run\?$/m],
    ['an underscore', ['--github_token=x'], /unknown flag --github_token: did you mean --github-token\?$/m],
    ['a plural', ['--platform', 'linux/amd64'], /unknown flag --platform: did you mean --platforms\?$/m],
    ['a short word, not guessed', ['--tg', 'v1'], /^manifest-merge: unknown flag --tg$/m],
    ['a flag without its value', ['--image'], /--image needs a value/],
    ['a stray argument', [...BASE, '--tag', 'v1', 'stray'], /unexpected argument "stray"/],
    [
      'a branch name as a tag',
      [...BASE, '--tag', 'feature/x', '--source', DIGEST],
      /--tag "feature\/x" is not a tag: a tag cannot hold "\/"; write e\.g\. feature-x/,
    ],
    [
      'a repository as a tag',
      [...BASE, '--tag', 'ghcr.io/org/app', '--source', DIGEST],
      /--tag "ghcr\.io\/org\/app" is a repository without a tag: add :TAG/,
    ],
    ['an empty flag', [...BASE, '--tag', 'v1', '--tag', ' ', '--source', DIGEST], /--tag is empty/],
    [
      'a single-valued flag twice',
      [...BASE, '--tag', 'v1', '--source', DIGEST, '--wait-timeout', '1s', '--wait-timeout', '2s'],
      /--wait-timeout is given 2 times \("1s", "2s"\): give it once/,
    ],
    [
      'JSON beside another --source',
      [...BASE, '--tag', 'v1', '--source', `["${DIGEST}"]`, '--source', DIGEST],
      /--source .* is JSON, which must be the only --source/,
    ],
    [
      'no source',
      [...BASE, '--tag', 'v1'],
      /^manifest-merge: --source: required unless --sources-dir is set/m,
    ],
    ['a bad source', [...BASE, '--tag', 'v1', '--source', 'sha256:abc'], /^manifest-merge: --source: /m],
    ['no image', ['--tag', 'v1', '--source', DIGEST], /^manifest-merge: --image: required/m],
    [
      '--tags as typed',
      [...BASE, '--tags', 'a b', '--source', DIGEST],
      /^manifest-merge: --tags: "a b" is not a valid tag/m,
    ],
    [
      'a user without a password',
      [...BASE, '--tag', 'v1', '--source', DIGEST, '--username', 'me'],
      /--username needs the password: pipe it into --password-stdin/,
    ],
    [
      'folders in --sources-dir',
      [...BASE, '--tag', 'v1', '--sources-dir', folders],
      /--sources-dir ".*" holds folders \(digests-amd64, digests-arm64\), not digest files: .*merge-multiple: true/,
    ],
  ])('%s', async (_name, argv, message) => {
    const result = await run(argv);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    // Nothing of the workflow's vocabulary, and one line per message.
    expect(result.stderr).not.toContain('${{');
    expect(result.stderr).not.toMatch(/input "/);
    expect(result.stderr).not.toMatch(/\\n/);
  });

  test('an empty --password-stdin is named', async () => {
    const result = await run(
      [...BASE, '--tag', 'v1', '--source', DIGEST, '--username', 'me', '--password-stdin'],
      {
        stdin: '\n',
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^manifest-merge: --password-stdin read no password from standard input/);
  });

  test('--password-stdin without --username', async () => {
    const result = await run([...BASE, '--tag', 'v1', '--source', DIGEST, '--password-stdin'], {
      stdin: 'pw\n',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--password-stdin needs --username/);
  });

  test('--password works but warns, and a password never shows, even given twice', async () => {
    const twice = await run([...BASE, '--tag', 'v1', '--password', 'hunter2pw', '--password', 'hunter2pw']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/--password is given 2 times: give it once/);
    expect(twice.stderr).not.toContain('hunter2pw');
    // Stops at the missing source, before any request, after the warning.
    const once = await run([...BASE, '--tag', 'v1', '--username', 'me', '--password', 'hunter2pw']);
    expect(once.code).toBe(2);
    expect(once.stderr).toMatch(
      /warning: --password shows the password to other users .* use --password-stdin/,
    );
    expect(once.stderr).toMatch(/--source: required/);
    expect(once.stderr).not.toContain('hunter2pw');
  });

  test('a password after --password-stdin is not echoed', async () => {
    const result = await run([...BASE, '--tag', 'v1', '--username', 'me', '--password-stdin', 'hunter2pw']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--password-stdin takes no value: pipe the password into standard input/);
    expect(result.stderr).not.toContain('hunter2pw');
  });

  test('--password and --password-stdin together', async () => {
    const result = await run(
      [...BASE, '--tag', 'v1', '--username', 'me', '--password', 'x', '--password-stdin'],
      {
        stdin: 'y',
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--password and --password-stdin are both given/);
  });
});

describe('the package installs the CLI', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
    files: string[];
  };

  test('bin is the bundled CLI, with its shebang', () => {
    expect(pkg.bin).toEqual({ 'manifest-merge': 'dist/cli/index.js' });
    expect(readFileSync(join(ROOT, 'dist/cli/index.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('npm pack (what npm install -g and npx install from a clone or a release) holds the CLI bundle', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [packed] = JSON.parse(out) as [{ files: { path: string }[] }];
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['dist/cli/index.js', 'dist/cli/package.json', 'package.json']),
    );
    expect(files.filter((f) => /^(src|__tests__|node_modules)\//.test(f))).toEqual([]);
  });
});

describe('the created annotation (checked for the action and the CLI alike)', () => {
  const NOW = Date.parse('2025-06-01T12:00:00.000Z');
  const clock: Clock = { now: () => 0, sleep: async () => {}, date: () => NOW };
  const created = 'org.opencontainers.image.created';

  function check(value: string | undefined, waitTimeoutMs = 120_000): string[] {
    const warnings: string[] = [];
    const log: Logger = {
      debug: () => {},
      info: () => {},
      warning: (message) => warnings.push(message),
      group: (_name, fn) => fn(),
      secret: () => {},
    };
    const inputs = {
      annotations: value === undefined ? {} : { [created]: value },
      descriptorAnnotations: [],
      unplacedAnnotations: [],
      waitTimeoutMs,
    } as unknown as Inputs;
    checkAnnotations(inputs, clock, log);
    return warnings;
  }

  test.each([
    ['metadata-action’s default: now, with milliseconds', '2025-06-01T11:59:58.123Z', 1],
    ['the time of this run, before a long wait for the registry', '2025-06-01T11:56:30.456Z', 1],
    ['a commit pushed a minute ago (whole seconds)', '2025-06-01T11:59:00Z', 0],
    ['commit_date of metadata-action (.000)', '2025-06-01T11:59:00.000Z', 0],
    ['head_commit.timestamp with an offset', '2025-06-01T13:59:00+02:00', 0],
    ['a time from hours ago, with milliseconds', '2025-06-01T09:00:00.500Z', 0],
    ['not a time at all', 'yesterday', 0],
    ['no annotation', undefined, 0],
  ])('%s: %s', (_name, value, count) => {
    expect(check(value)).toHaveLength(count);
  });

  test('the warning recommends metadata-action’s commit_date, not SOURCE_DATE_EPOCH', () => {
    const [warning] = check('2025-06-01T11:59:58.123Z');
    expect(warning).toContain(`${created}={{commit_date 'YYYY-MM-DDTHH:mm:ss.SSS[Z]'}}`);
    expect(warning).not.toContain('SOURCE_DATE_EPOCH');
  });

  test('an empty value is refused as an input error that says why it is empty', () => {
    expect(() => check('')).toThrow(InputError);
    expect(() => check(' ')).toThrow(
      /created is empty: .*head_commit\.timestamp.*push events only.*commit_date/,
    );
  });
});
