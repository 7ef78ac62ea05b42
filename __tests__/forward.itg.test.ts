import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAction } from './helpers/action.js';
import { type HostileServer, json, startHostile } from './helpers/hostile.js';
import { fetchManifest, type PushedImage, pushImages, sourcesOf } from './helpers/images.js';
import type { TestProxy } from './helpers/proxy.js';
import { startProxiedRegistry, stopProxiedRegistry, type TestRegistry } from './helpers/registry.js';

/**
 * SPEC "Tags that only move forward": a real registry, and a fake GitHub API on loopback answering the compare
 * endpoint for a small commit graph:  A <- B <- C  and  A <- D  (D diverged from the B/C line).
 */

const sha = (c: string) => c.repeat(40);
const PARENT: Record<string, string | undefined> = {
  [sha('a')]: undefined,
  [sha('b')]: sha('a'),
  [sha('c')]: sha('b'),
  [sha('d')]: sha('a'),
  // Far from C: GitHub answers with 300 changed files and their patches.
  [sha('e')]: sha('c'),
};
const TOKEN = 'ghs_fake-github-token-4711';
/** The token as GitHub takes it: octokit sends `token <token>` for an installation or personal token. */
const AUTHORIZATIONS = [`Bearer ${TOKEN}`, `token ${TOKEN}`];
/** What GitHub sends between distant commits: its limit of 300 files, each with its patch (2.6 MiB in all). */
const CHANGED_FILES = Array.from({ length: 300 }, (_, i) => ({
  filename: `src/file-${i}.ts`,
  status: 'modified',
  patch: `@@ -1,100 +1,100 @@\n${'-old line of code\n+new line of code\n'.repeat(250)}`,
}));
const REVISION = 'org.opencontainers.image.revision';

function ancestors(commit: string): string[] {
  const line: string[] = [];
  for (let c: string | undefined = commit; c; c = PARENT[c]) line.push(c);
  return line;
}

let reg: TestRegistry;
let proxy: TestProxy;
let github: HostileServer;

beforeAll(async () => {
  ({ reg, proxy } = await startProxiedRegistry());
  github = await startHostile({
    handler: (req) => {
      const match = /^\/repos\/org\/app\/compare\/([0-9a-f]+)\.\.\.([0-9a-f]+)/.exec(req.path);
      if (!match || !AUTHORIZATIONS.includes(req.headers['authorization'] ?? ''))
        return json(404, { message: 'Not Found' });
      const [, base = '', head = ''] = match;
      if (!(base in PARENT) || !(head in PARENT)) return json(404, { message: 'No common ancestor' });
      const status =
        base === head
          ? 'identical'
          : ancestors(head).includes(base)
            ? 'ahead'
            : ancestors(base).includes(head)
              ? 'behind'
              : 'diverged';
      return json(200, {
        status,
        ahead_by: 1,
        behind_by: 0,
        commits: [{ sha: head }],
        ...(head === sha('e') ? { files: CHANGED_FILES } : {}),
      });
    },
  });
});
afterAll(async () => {
  await github?.close();
  await stopProxiedRegistry(reg, proxy);
});

const ARCHES = ['amd64', 'arm64'] as const;

function build(repo: string, seed: string, arches: readonly string[] = ARCHES): Promise<PushedImage[]> {
  return pushImages(reg, repo, { architectures: arches, seed });
}

/** Runs the action as a workflow of commit `commit` would, through the proxy. */
function merge(
  repo: string,
  tag: string,
  images: PushedImage[],
  commit: string,
  extra: Record<string, string> = {},
) {
  return runAction(
    {
      image: `${proxy.host}/${repo}`,
      tags: tag,
      sources: sourcesOf(images),
      'if-tag-exists': 'forward',
      'github-token': TOKEN,
      ...extra,
    },
    { GITHUB_SHA: commit, GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'org/app' },
  );
}

/** The digest and index a tag serves in the registry itself (`{}` when it serves none). */
async function tagIndex(repo: string, tag: string) {
  const { digest, json = {} } = await fetchManifest(reg, repo, tag);
  return { digest, json };
}

function platformsOf(index: Record<string, unknown>): string[] {
  const entries =
    (index['manifests'] as { platform?: { os: string; architecture: string } }[] | undefined) ?? [];
  return entries
    .flatMap((e) =>
      e.platform && e.platform.os !== 'unknown' ? [`${e.platform.os}/${e.platform.architecture}`] : [],
    )
    .sort();
}

describe('order-by: revision', () => {
  test('newer moves the tag; older and diverged leave it, with success; the token goes to the API only', async () => {
    const repo = 'forward/revision';
    const atB = await merge(repo, 'main', await build(repo, 'b'), sha('b'));
    expect(atB.code, atB.stdout).toBe(0);
    const atC = await merge(repo, 'main', await build(repo, 'c'), sha('c'));
    expect(atC.code, atC.stdout).toBe(0);
    expect(atC.outputs['written']).toBe('true');
    expect((await tagIndex(repo, 'main')).digest).toBe(atC.outputs['digest']);
    const annotations = (await tagIndex(repo, 'main')).json['annotations'] as Record<string, string>;
    expect(annotations[REVISION]).toBe(sha('c'));

    // A late run of the older commit B: success, the tag stays at C, and it is not in `tags`.
    const late = await merge(repo, 'main', await build(repo, 'b-again'), sha('b'));
    expect(late.code, late.stdout).toBe(0);
    expect(late.outputs['written']).toBe('false');
    expect(JSON.parse(late.outputs['tags'] ?? '')).toEqual([]);
    expect(late.stdout).toContain('is newer');
    expect((await tagIndex(repo, 'main')).digest).toBe(atC.outputs['digest']);
    // Its own index is stored by digest all the same, so `ref` resolves.
    const ref = late.outputs['digest'] ?? '';
    expect((await tagIndex(repo, ref)).digest).toBe(ref);

    // D diverged from C's line: left alone too.
    const diverged = await merge(repo, 'main', await build(repo, 'd'), sha('d'));
    expect(diverged.code, diverged.stdout).toBe(0);
    expect(diverged.stdout).toContain('diverged');
    expect((await tagIndex(repo, 'main')).digest).toBe(atC.outputs['digest']);
    expect(late.summary).toContain('is newer');

    // The token went to the API origin and nowhere else.
    expect(github.log.some((entry) => AUTHORIZATIONS.includes(entry.headers['authorization'] ?? ''))).toBe(
      true,
    );
    expect(JSON.stringify(proxy.log)).not.toContain(TOKEN);
  });

  test('a compare answer over 1 MiB (300 files with patches) is read whole: the tag moves forward', async () => {
    const repo = 'forward/distant';
    const atC = await merge(repo, 'main', await build(repo, 'c'), sha('c'));
    expect(atC.code, atC.stdout).toBe(0);
    const asked = github.log.length;
    const atE = await merge(repo, 'main', await build(repo, 'e'), sha('e'));

    expect(atE.code, atE.stdout).toBe(0);
    expect(JSON.stringify(CHANGED_FILES).length).toBeGreaterThan(2 * 1024 * 1024);
    expect(github.log.slice(asked).map((entry) => entry.path)).toEqual([
      `/repos/org/app/compare/${sha('c')}...${sha('e')}?per_page=1`,
    ]);
    expect(atE.outputs['written']).toBe('true');
    expect((await tagIndex(repo, 'main')).digest).toBe(atE.outputs['digest']);
  });

  test('a GITHUB_API_URL that is not HTTPS gets no token: the run fails naming it, and the tag stays', async () => {
    const repo = 'forward/plain-api';
    const atB = await merge(repo, 'main', await build(repo, 'b'), sha('b'));
    expect(atB.code, atB.stdout).toBe(0);
    const result = await runAction(
      {
        image: `${proxy.host}/${repo}`,
        tags: 'main',
        sources: sourcesOf(await build(repo, 'c')),
        'if-tag-exists': 'forward',
        'github-token': TOKEN,
      },
      { GITHUB_SHA: sha('c'), GITHUB_API_URL: 'http://ghe.example/api/v3', GITHUB_REPOSITORY: 'org/app' },
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'GITHUB_API_URL http://ghe.example is not HTTPS: refusing to send the GitHub token there',
    );
    expect((await tagIndex(repo, 'main')).digest).toBe(atB.outputs['digest']);
  });

  test('an index without the annotation counts as older', async () => {
    const repo = 'forward/unmarked';
    const old = await build(repo, 'old');
    const plain = await runAction({
      image: `${reg.host}/${repo}`,
      tags: 'latest',
      sources: sourcesOf(old),
    });
    expect(plain.code, plain.stdout).toBe(0);
    const result = await merge(repo, 'latest', await build(repo, 'new'), sha('a'));
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(`an index without ${REVISION}: counted as older`);
    expect((await tagIndex(repo, 'latest')).digest).toBe(result.outputs['digest']);
  });

  test('a revision that is not a commit SHA (a branch name) counts as unmarked: the tag moves', async () => {
    const repo = 'forward/branch-revision';
    const plain = await runAction({
      image: `${reg.host}/${repo}`,
      tags: 'latest',
      sources: sourcesOf(await build(repo, 'branch')),
      annotations: `${REVISION}=main`,
    });
    expect(plain.code, plain.stdout).toBe(0);
    const before = github.log.length;
    const result = await merge(repo, 'latest', await build(repo, 'sha'), sha('a'));
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['written']).toBe('true');
    expect((await tagIndex(repo, 'latest')).digest).toBe(result.outputs['digest']);
    // Nothing to ask GitHub about.
    expect(github.log.length).toBe(before);
  });

  test('the same revision merges platforms; a shared platform keeps the lower digest', async () => {
    const repo = 'forward/union';
    const first = await build(repo, 'one', ['amd64']);
    const second = await build(repo, 'two', ['amd64', 'arm64']);
    expect((await merge(repo, 'sha', first, sha('c'))).code).toBe(0);
    const result = await merge(repo, 'sha', second, sha('c'));
    expect(result.code, result.stdout).toBe(0);
    const held = await tagIndex(repo, 'sha');
    expect(platformsOf(held.json)).toEqual(['linux/amd64', 'linux/arm64']);
    const amd64 = [first[0]?.digest, second[0]?.digest].sort()[0];
    const digests = (held.json['manifests'] as { digest: string }[]).map((m) => m.digest);
    expect(digests).toContain(amd64);
    // `digest` stays this run's own index; the tag holds the union.
    expect(held.digest).not.toBe(result.outputs['digest']);
    expect(result.stdout).toContain('the union of both indexes');
    // What the tag serves is kept by retention tools too: the union and the other run's children.
    expect(JSON.parse(result.outputs['digests'] ?? '[]')).toEqual(
      expect.arrayContaining([result.outputs['digest'], held.digest, ...digests]),
    );
  });
});

describe('concurrent workflows of one commit converge', () => {
  test.each([1, 2, 3])(
    'round %i: {amd64}, {arm64} and {amd64, arm64} end with one amd64 and one arm64',
    async (round) => {
      const repo = `forward/race${round}`;
      const [amd, arm, both] = await Promise.all([
        build(repo, `amd-${round}`, ['amd64']),
        build(repo, `arm-${round}`, ['arm64']),
        build(repo, `both-${round}`, ['amd64', 'arm64']),
      ]);
      const runs = await Promise.all(
        [amd, arm, both].map((images) => merge(repo, 'sha', images as PushedImage[], sha('c'))),
      );
      for (const run of runs) expect(run.code, run.stdout).toBe(0);
      const held = await tagIndex(repo, 'sha');
      expect(platformsOf(held.json)).toEqual(['linux/amd64', 'linux/arm64']);
      const lowestAmd64 = [amd?.[0]?.digest, both?.[0]?.digest].sort()[0];
      expect((held.json['manifests'] as { digest: string }[]).map((m) => m.digest)).toContain(lowestAmd64);
    },
  );

  test('an older and a newer commit racing end with the newer', async () => {
    const repo = 'forward/older-newer';
    const [older, newer] = await Promise.all([build(repo, 'older'), build(repo, 'newer')]);
    const [o, n] = await Promise.all([
      merge(repo, 'main', older, sha('b')),
      merge(repo, 'main', newer, sha('c')),
    ]);
    expect(o.code, o.stdout).toBe(0);
    expect(n.code, n.stdout).toBe(0);
    const annotations = (await tagIndex(repo, 'main')).json['annotations'] as Record<string, string>;
    expect(annotations[REVISION]).toBe(sha('c'));
  });
});

describe('other orderings', () => {
  test.each([
    ['version', 'org.opencontainers.image.version', ['1.2.0', '1.10.0-rc.1', '1.10.0', '1.9.9'], '1.10.0'],
    [
      'created',
      'org.opencontainers.image.created',
      ['2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z'],
      '2026-03-01T00:00:00Z',
    ],
    // Told apart past what a JavaScript number or a Date holds: comparing them equal would unite two builds.
    [
      'version',
      'org.opencontainers.image.version',
      ['1.0.0-9007199254740992', '1.0.0-9007199254740993'],
      '1.0.0-9007199254740993',
    ],
    [
      'created',
      'org.opencontainers.image.created',
      ['2026-01-01T00:00:00.0002Z', '2026-01-01T00:00:00.0001Z', '2026-01-01T00:00:00.0003Z'],
      '2026-01-01T00:00:00.0003Z',
    ],
  ])(
    'order-by: %s keeps the greatest, whatever order the runs come in',
    async (orderBy, key, values, greatest) => {
      const repo = `forward/${orderBy}-${greatest.replace(/[^0-9a-z]/gi, '-').toLowerCase()}`;
      for (const [i, value] of values.entries()) {
        const result = await merge(repo, 'latest', await build(repo, `${orderBy}-${i}`), sha('a'), {
          'order-by': orderBy,
          annotations: `${key}=${value}`,
        });
        expect(result.code, result.stdout).toBe(0);
      }
      const held = await tagIndex(repo, 'latest');
      const annotations = held.json['annotations'] as Record<string, string>;
      expect(annotations[key]).toBe(greatest);
      // The last run's own index, not a union with an earlier build.
      expect(platformsOf(held.json)).toEqual(['linux/amd64', 'linux/arm64']);
      expect(
        (held.json['manifests'] as unknown[]).filter((m) => JSON.stringify(m).includes('amd64')),
      ).toHaveLength(1);
    },
  );

  test('the same version built from another revision is left alone, not united with ours', async () => {
    const repo = 'forward/version-rebuilt';
    const version = 'org.opencontainers.image.version=1.2.3';
    const first = await merge(repo, 'latest', await build(repo, 'first', ['amd64']), sha('b'), {
      'order-by': 'version',
      annotations: `${version}\n${REVISION}=${sha('b')}`,
    });
    expect(first.code, first.stdout).toBe(0);
    const again = await merge(repo, 'latest', await build(repo, 'again', ['arm64']), sha('c'), {
      'order-by': 'version',
      annotations: `${version}\n${REVISION}=${sha('c')}`,
    });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs['written']).toBe('false');
    expect(again.stdout).toContain(`built from ${REVISION} ${sha('b')}, not ours`);
    const held = await tagIndex(repo, 'latest');
    expect(held.digest).toBe(first.outputs['digest']);
    expect(platformsOf(held.json)).toEqual(['linux/amd64']);
  });

  test('order-by: version without a version annotation is refused before any request, naming the fix', async () => {
    const before = proxy.log.length;
    // Two sources: a single one might be an index promoted with its own annotation, which is read first.
    const result = await merge('forward/none', 'latest', [], sha('a'), {
      'order-by': 'version',
      sources: `sha256:${'a'.repeat(64)}\nsha256:${'b'.repeat(64)}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /::error::input "annotations": the index needs the annotation org\.opencontainers\.image\.version/,
    );
    expect(proxy.log.length).toBe(before);
  });
});
