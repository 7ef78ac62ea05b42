import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from './helpers/action.js';
import { json, startHostile } from './helpers/hostile.js';
import { fetchManifest, pushImage, pushImages } from './helpers/images.js';
import { personality, unknownRepositoryNamed } from './helpers/personalities.js';
import { startProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => reg?.stop());

test('--help exits 0 and lists every input as a flag', async () => {
  const result = await runCli(['--help']);
  expect(result.code).toBe(0);
  for (const flag of [
    '--image',
    '--tags',
    '--sources',
    '--sources-dir',
    '--platforms',
    '--media-type',
    '--if-tag-exists',
    '--wait-timeout',
    '--dry-run',
    '--plain-http',
  ]) {
    expect(result.stdout).toContain(flag);
  }
});

test.each([
  [['--image', 'x', '--frobnicate'], /frobnicate/],
  [['--tag', 'v1', '--source', `sha256:${'a'.repeat(64)}`], /--image: /],
  [['--image', 'localhost:5000/app', '--tag', 'v1', '--source', 'sha256:abc'], /--source: /],
  [['--image', 'localhost:5000/app', '--tag', 'v1', 'stray'], /unexpected argument "stray"/],
])('usage errors exit 2: %j', async (args, message) => {
  const result = await runCli(args);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stdout).toBe('');
});

test('a run that fails exits 1 with the reason on stderr and nothing on stdout', async () => {
  const missing = `sha256:${'f'.repeat(64)}`;
  const result = await runCli([
    '--image',
    `${reg.host}/cli/app`,
    '--tag',
    'v1',
    '--source',
    missing,
    '--wait-timeout',
    '1s',
  ]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(missing);
  expect(result.stdout).toBe('');
});

test('success prints the outputs as JSON, with structured values', async () => {
  const image = await pushImage(reg, 'cli/app', {
    platform: { os: 'linux', architecture: 'amd64' },
    format: 'docker',
  });
  const result = await runCli(['--image', `${reg.host}/cli/app`, '--tags', 'a,b', '--source', image.digest]);
  expect(result.code, result.stderr).toBe(0);
  const outputs = JSON.parse(result.stdout) as Record<string, unknown>;
  expect(outputs['tags']).toEqual([`${reg.host}/cli/app:a`, `${reg.host}/cli/app:b`]);
  expect(outputs['platform-digests']).toEqual({ 'linux/amd64': image.digest });
  expect(outputs['written']).toBe(true);
  expect(result.stderr).toContain('(verified)');
});

test('a second run writes nothing and says so; an overwrite names the digest the tag held', async () => {
  const [amd64, arm64] = await Promise.all(
    (['amd64', 'arm64'] as const).map((architecture) =>
      pushImage(reg, 'cli/again', { platform: { os: 'linux', architecture }, format: 'oci', seed: 'again' }),
    ),
  );
  if (!amd64 || !arm64) throw new Error('pushImage gave no image');
  const args = (...sources: string[]) => [
    '--image',
    `${reg.host}/cli/again`,
    '--tag',
    'latest',
    ...sources.flatMap((source) => ['--source', source]),
  ];
  const first = await runCli(args(amd64.digest));
  expect(first.code, first.stderr).toBe(0);
  const one = JSON.parse(first.stdout) as { digest: string };
  expect(first.stderr).toContain(`${one.digest} (`);
  expect(first.stderr).toMatch(/ bytes, 1 platform\)/);
  expect(first.stderr).toContain(`${reg.host}/cli/again:latest -> ${one.digest} (verified)\n`);
  expect(first.stderr).toContain('written: true (1 tag moved)');

  const second = await runCli(args(amd64.digest));
  expect(second.code, second.stderr).toBe(0);
  expect(JSON.parse(second.stdout)).toMatchObject({ digest: one.digest, written: false });
  expect(second.stderr).toContain(`${reg.host}/cli/again:latest already serves ${one.digest}`);
  expect(second.stderr).toContain('written: false: every tag already serves the index');

  const both = await runCli(args(amd64.digest, arm64.digest));
  expect(both.code, both.stderr).toBe(0);
  const two = JSON.parse(both.stdout) as { digest: string };
  expect(both.stderr).toMatch(/ bytes, 2 platforms\)/);
  expect(both.stderr).toContain(
    `${reg.host}/cli/again:latest -> ${two.digest} (verified; it held ${one.digest})`,
  );
});

test('a typo in --image: the wait names the limit and the unknown repository, the error every missing source', async () => {
  // A registry that answers NAME_UNKNOWN for a repository it does not know, as GHCR does.
  const proxy = await startProxy(reg.url);
  try {
    const unknown = unknownRepositoryNamed();
    proxy.setHandler(personality(unknown));
    const [a, b] = ['a', 'b'].map((hex) => `sha256:${hex.repeat(64)}`);
    const result = await runCli([
      '--image',
      `${proxy.host}/cli/tpyo`,
      '--tag',
      'v1',
      '--source',
      `linux/amd64=${a}`,
      '--source',
      `linux/arm64=${b}`,
      '--wait-timeout',
      '5s',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(unknown.named).toBeGreaterThan(0);
    const lines = result.stderr.split('\n');
    const waiting = lines.filter((line) => line.includes('is not served yet'));
    expect(waiting).toHaveLength(2);
    expect(waiting[0]).toMatch(
      new RegExp(
        `^${proxy.host}/cli/tpyo@sha256:[ab]{64} is not served yet: ${proxy.host} does not know the repository ` +
          'cli/tpyo \\(NAME_UNKNOWN\\); is "image" misspelt\\?; waiting for it up to 5 s \\(wait-timeout; set it, ' +
          'e\\.g\\. to 5m, to wait longer\\)$',
      ),
    );
    expect(waiting[1]).not.toContain('wait-timeout');
    expect(lines.filter((line) => line.startsWith('still waiting after ')).length).toBeLessThanOrEqual(2);
    expect(lines.at(-2)).toContain(
      `manifest-merge: sources: 2 sources are still not served by ${proxy.host}/cli/tpyo after wait-timeout: ` +
        `"linux/amd64=${a}", "linux/arm64=${b}"`,
    );
  } finally {
    await proxy.close();
  }
});

test('--if-tag-exists forward orders by revision through the GitHub API named by GITHUB_* variables', async () => {
  // A scripted compare API on loopback for the line A <- B <- C, as other CI systems reach GitHub for a repository.
  const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(40)) as [string, string, string];
  const order = [a, b, c];
  const token = 'ghp_cli-compare-token-0815';
  const github = await startHostile({
    handler: (req) => {
      const match = /^\/api\/v3\/repos\/org\/app\/compare\/([0-9a-f]+)\.\.\.([0-9a-f]+)/.exec(req.path);
      // octokit sends an installation or personal token as `token <token>`; GitHub takes `Bearer` too.
      if (!match || ![`Bearer ${token}`, `token ${token}`].includes(req.headers['authorization'] ?? ''))
        return json(404, { message: 'Not Found' });
      const [base, head] = [order.indexOf(match[1] ?? ''), order.indexOf(match[2] ?? '')];
      const status = head > base ? 'ahead' : head < base ? 'behind' : 'identical';
      return json(200, { status, ahead_by: 1, behind_by: 0 });
    },
  });
  try {
    const repo = 'cli/forward';
    const at = async (commit: string, auth: 'env' | 'flag', env: Record<string, string> = {}) => {
      const images = await pushImages(reg, repo, { seed: commit });
      return runCli(
        [
          '--image',
          `${reg.host}/${repo}`,
          '--tag',
          'main',
          ...images.flatMap((image) => ['--source', image.digest]),
          '--if-tag-exists',
          'forward',
          ...(auth === 'flag' ? ['--github-token', token] : []),
        ],
        {
          env: {
            GITHUB_SHA: commit,
            GITHUB_API_URL: `${github.url}/api/v3`,
            GITHUB_REPOSITORY: 'org/app',
            ...(auth === 'env' ? { GITHUB_TOKEN: token } : {}),
            ...env,
          },
        },
      );
    };
    const digestOf = (result: { stdout: string }) => (JSON.parse(result.stdout) as { digest: string }).digest;

    const atB = await at(b, 'env');
    expect(atB.code, atB.stderr).toBe(0);
    // An older commit leaves the tag alone and succeeds; the token went to the API.
    const atA = await at(a, 'flag');
    expect(atA.code, atA.stderr).toBe(0);
    expect(JSON.parse(atA.stdout)).toMatchObject({ written: false, tags: [] });
    expect((await fetchManifest(reg, repo, 'main')).digest).toBe(digestOf(atB));
    const compares = github.log.filter((entry) => entry.path.includes('/compare/'));
    expect(compares.map((entry) => entry.path.split('?')[0])).toEqual([
      `/api/v3/repos/org/app/compare/${b}...${a}`,
    ]);
    // A newer commit moves it.
    const atC = await at(c, 'env');
    expect(atC.code, atC.stderr).toBe(0);
    expect(JSON.parse(atC.stdout)).toMatchObject({ written: true });
    expect((await fetchManifest(reg, repo, 'main')).digest).toBe(digestOf(atC));
    expect(atB.stderr + atA.stderr + atC.stderr).not.toContain(token);

    // Without GITHUB_REPOSITORY there is nothing to compare in: the run fails saying what it needs, and the tag stays.
    const lost = await at(a, 'env', { GITHUB_REPOSITORY: '' });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(
      'order-by: revision needs the GitHub API (GITHUB_API_URL, GITHUB_REPOSITORY',
    );
    expect((await fetchManifest(reg, repo, 'main')).digest).toBe(digestOf(atC));
  } finally {
    await github.close();
  }
});
