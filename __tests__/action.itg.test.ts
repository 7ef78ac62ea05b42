import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLine, runAction, runCli } from './helpers/action.js';
import {
  fetchManifest,
  MediaTypes,
  type Platform,
  type PushedImage,
  pushBlob,
  pushBuildxIndex,
  pushImage,
  pushJsonManifest,
  sourcesOf,
} from './helpers/images.js';
import type { TestProxy } from './helpers/proxy.js';
import { startProxiedRegistry, stopProxiedRegistry, type TestRegistry } from './helpers/registry.js';

const PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
  { os: 'linux', architecture: 'arm', variant: 'v6' },
  { os: 'linux', architecture: 'ppc64le' },
  { os: 'linux', architecture: 's390x' },
  { os: 'linux', architecture: '386' },
  { os: 'linux', architecture: 'riscv64' },
];

/** Output keys as the contract names them: arm64's v8 variant means nothing and is left out. */
const key = (p: Platform) =>
  [p.os, p.architecture, p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant]
    .filter(Boolean)
    .join('/');

let reg: TestRegistry;
let proxy: TestProxy;
beforeAll(async () => {
  ({ reg, proxy } = await startProxiedRegistry());
});
afterAll(() => stopProxiedRegistry(reg, proxy));

async function pushAll(
  repo: string,
  format: 'docker' | 'oci',
  count: number,
  seed = 'a',
): Promise<PushedImage[]> {
  return Promise.all(
    PLATFORMS.slice(0, count).map((platform) => pushImage(reg, repo, { platform, format, seed })),
  );
}

/** Requests the proxy saw since `from`, as "METHOD path" strings. */
function requestsSince(from: number): string[] {
  return proxy.log.slice(from).map((entry) => `${entry.method} ${entry.path}`);
}

describe.each([
  ['docker', 2],
  ['oci', 2],
  ['docker', 8],
  ['oci', 8],
] as const)('%s images, N=%i', (format, count) => {
  test('merges, tags, and hands out per-platform refs', async () => {
    const repo = `e2e/${format}-${count}`;
    const images = await pushAll(repo, format, count);
    const image = `${proxy.host}/${repo}`;
    const result = await runAction({
      image,
      tags: 'latest,v1',
      sources: sourcesOf(images),
    });
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);

    const { digest, ref } = result.outputs;
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(ref).toBe(`${image}@${digest}`);
    expect(JSON.parse(result.outputs['tags'] ?? '')).toEqual([`${image}:latest`, `${image}:v1`]);
    expect(result.outputs['written']).toBe('true');

    // Both tags serve exactly the index that the `manifest` output shows.
    for (const tag of ['latest', 'v1']) {
      const served = await fetchManifest(reg, repo, tag);
      expect(served.digest).toBe(digest);
      expect(served.json).toEqual(JSON.parse(result.outputs['manifest'] ?? ''));
    }
    const index = JSON.parse(result.outputs['manifest'] ?? '') as { mediaType: string; manifests: unknown[] };
    expect(index.mediaType).toBe(format === 'docker' ? MediaTypes.dockerManifestList : MediaTypes.ociIndex);
    expect(index.manifests).toHaveLength(count);

    // Each platform ref points at the image of that platform.
    const refs = JSON.parse(result.outputs['platform-refs'] ?? '') as Record<string, string>;
    const digests = JSON.parse(result.outputs['platform-digests'] ?? '') as Record<string, string>;
    expect(Object.keys(refs).sort()).toEqual(images.map((i) => key(i.platform)).sort());
    for (const pushed of images) {
      const k = key(pushed.platform);
      expect(digests[k]).toBe(pushed.digest);
      expect(refs[k]).toBe(`${image}@${pushed.digest}`);
      const served = await fetchManifest(reg, repo, (refs[k] ?? '').split('@')[1] ?? '');
      const config = (served.json?.['config'] as { digest: string } | undefined)?.digest;
      const blob = (await (await fetch(`${reg.url}/v2/${repo}/blobs/${config}`)).json()) as Platform;
      expect(key(blob)).toBe(k);
    }
    expect(result.summary).toContain(digest);
    // Nothing lagged here (every index child was read at once): the summary reports no wait.
    expect(result.summary).toContain('| Waited for the registry | no: every digest was served at once |');
    for (const pushed of images) expect(result.summary).toContain(pushed.digest);
  });
});

describe('one set of sources, every way of giving it', () => {
  let images: PushedImage[];
  let expected: string;
  const repo = 'e2e/forms';
  const image = () => `${reg.host}/${repo}`;

  beforeAll(async () => {
    images = await pushAll(repo, 'oci', 4);
    const result = await runAction({
      image: image(),
      tags: 'forms',
      sources: sourcesOf(images),
      'dry-run': 'true',
    });
    expect(result.code, result.stdout).toBe(0);
    expected = result.outputs['digest'] ?? '';
  });

  test.each([
    [
      'reversed lines',
      () =>
        images
          .map((i) => i.digest)
          .reverse()
          .join('\n'),
    ],
    ['commas', () => images.map((i) => i.digest).join(',')],
    ['duplicates and blank lines', () => [...images, ...images].map((i) => i.digest).join('\n\n')],
    ['a JSON array', () => JSON.stringify(images.map((i) => i.digest).reverse())],
    [
      'a JSON object',
      () => JSON.stringify(Object.fromEntries(images.map((i) => [key(i.platform), i.digest]))),
    ],
    ['platform prefixes', () => images.map((i) => `${key(i.platform)}=${i.digest}`).join('\n')],
  ])('%s', async (_name, sources) => {
    const result = await runAction({ image: image(), tags: 'forms', sources: sources(), 'dry-run': 'true' });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['digest']).toBe(expected);
  });

  test('a sources-dir of digest files, alone and with sources', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-digests-'));
    try {
      for (const pushed of images.slice(1))
        writeFileSync(join(dir, pushed.digest.slice('sha256:'.length)), '');
      const both = await runAction({
        image: image(),
        tags: 'forms',
        sources: images[0]?.digest ?? '',
        'sources-dir': dir,
        'dry-run': 'true',
      });
      expect(both.code, both.stdout).toBe(0);
      expect(both.outputs['digest']).toBe(expected);
      writeFileSync(join(dir, images[0]?.digest.slice('sha256:'.length) ?? ''), '');
      const alone = await runAction({ image: image(), tags: 'forms', 'sources-dir': dir, 'dry-run': 'true' });
      expect(alone.outputs['digest']).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the CLI gives the same digest as the action', async () => {
    const args = ['--image', image(), '--tag', 'forms', '--dry-run'];
    for (const pushed of images) args.push('--source', pushed.digest);
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).digest).toBe(expected);
  });
});

describe('writes', () => {
  test('a job summary that cannot be written after the tags moved is a warning: the step succeeds, outputs set', async () => {
    const repo = 'e2e/summary-unwritable';
    const images = await pushAll(repo, 'docker', 2);
    const result = await runAction(
      { image: `${proxy.host}/${repo}`, tags: 'stable', sources: sourcesOf(images) },
      { GITHUB_STEP_SUMMARY: join(tmpdir(), 'mm-no-such-dir', 'summary') },
    );
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['written']).toBe('true');
    expect(result.stdout).toMatch(/^::warning title=Job summary::the job summary could not be written: /m);
    expect(errorLine(result)).toBe('');
    expect((await fetchManifest(reg, repo, 'stable')).digest).toBe(result.outputs['digest']);
  });

  test('a re-run confirms the tag without a tag PUT, and dry-run never PUTs', async () => {
    const repo = 'e2e/rerun';
    const images = await pushAll(repo, 'docker', 2);
    const inputs = {
      image: `${proxy.host}/${repo}`,
      tags: 'stable',
      sources: sourcesOf(images),
    };
    const first = await runAction(inputs);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs['written']).toBe('true');

    const before = proxy.log.length;
    const again = await runAction(inputs);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs['written']).toBe('false');
    expect(again.outputs['digest']).toBe(first.outputs['digest']);
    expect(JSON.parse(again.outputs['tags'] ?? '')).toEqual([`${proxy.host}/${repo}:stable`]);
    // The tag already serves the index, so `ref` resolves: nothing is written, not even by digest.
    expect(requestsSince(before).filter((r) => r.startsWith('PUT'))).toEqual([]);

    const more = await pushAll(repo, 'docker', 3, 'b');
    const beforeDry = proxy.log.length;
    const dry = await runAction({
      ...inputs,
      sources: sourcesOf(more),
      'dry-run': 'true',
    });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.outputs['written']).toBe('false');
    expect(dry.outputs['digest']).not.toBe(first.outputs['digest']);
    expect(requestsSince(beforeDry).filter((r) => !r.startsWith('GET') && !r.startsWith('HEAD'))).toEqual([]);
    expect((await fetchManifest(reg, repo, 'stable')).digest).toBe(first.outputs['digest']);
  });

  test('if-tag-exists: skip leaves a tag at another digest alone and writes the rest', async () => {
    const repo = 'e2e/skip';
    const first = await pushAll(repo, 'docker', 2);
    const image = `${reg.host}/${repo}`;
    const before = await runAction({ image, tags: 'stable', sources: sourcesOf(first) });
    expect(before.code, before.stdout).toBe(0);
    const next = await pushAll(repo, 'docker', 3, 'skip');
    const result = await runAction({
      image,
      tags: 'stable,next',
      sources: sourcesOf(next),
      'if-tag-exists': 'skip',
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/::warning title=Tag skipped::.*:stable is at sha256:/);
    expect(JSON.parse(result.outputs['tags'] ?? '')).toEqual([`${image}:next`]);
    expect(result.outputs['written']).toBe('true');
    expect((await fetchManifest(reg, repo, 'stable')).digest).toBe(before.outputs['digest']);
    expect((await fetchManifest(reg, repo, 'next')).digest).toBe(result.outputs['digest']);
  });

  test('buildx-style sources keep each attestation right after its image, or drop them', async () => {
    const repo = 'e2e/buildx';
    const pushed = await Promise.all(
      PLATFORMS.slice(0, 3).map((platform) => pushBuildxIndex(reg, repo, { platform })),
    );
    const sources = pushed.map((p) => p.index.digest).join('\n');
    const kept = await runAction({ image: `${reg.host}/${repo}`, tags: 'kept', sources });
    expect(kept.code, kept.stdout).toBe(0);
    const index = JSON.parse(kept.outputs['manifest'] ?? '') as {
      mediaType: string;
      manifests: { digest: string; platform: Platform; annotations?: Record<string, string> }[];
    };
    expect(index.mediaType).toBe(MediaTypes.ociIndex);
    expect(index.manifests).toHaveLength(6);
    const order = ['linux/amd64', 'linux/arm/v7', 'linux/arm64'];
    index.manifests.forEach((entry, i) => {
      if (i % 2 === 0) {
        expect(key(entry.platform)).toBe(order[i / 2]);
      } else {
        expect(entry.platform).toEqual({ architecture: 'unknown', os: 'unknown' });
        expect(entry.annotations?.['vnd.docker.reference.type']).toBe('attestation-manifest');
        expect(entry.annotations?.['vnd.docker.reference.digest']).toBe(index.manifests[i - 1]?.digest);
      }
    });
    expect(JSON.parse(kept.outputs['platform-digests'] ?? '')).toEqual(
      Object.fromEntries(pushed.map((p) => [key(p.image.platform), p.image.digest])),
    );

    const dropped = await runAction({
      image: `${reg.host}/${repo}`,
      tags: 'dropped',
      sources,
      attestations: 'drop',
    });
    expect(dropped.code, dropped.stdout).toBe(0);
    const slim = JSON.parse(dropped.outputs['manifest'] ?? '') as { manifests: { platform: Platform }[] };
    expect(slim.manifests.map((m) => key(m.platform))).toEqual(order);
  });
});

test('artifact attestations (subject and artifactType, newer BuildKit) follow the image they name', async () => {
  const repo = 'e2e/artifacts';
  const image = await pushImage(reg, repo, {
    platform: { os: 'linux', architecture: 'amd64' },
    format: 'oci',
    seed: 'art',
  });
  const empty = new TextEncoder().encode('{}');
  const statement = new TextEncoder().encode(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1' }));
  const [emptyDigest, statementDigest] = await Promise.all([
    pushBlob(reg, repo, empty),
    pushBlob(reg, repo, statement),
  ]);
  const artifactType = 'application/vnd.in-toto+json';
  const artifact = await pushJsonManifest(
    reg,
    repo,
    {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: empty.length },
      layers: [{ mediaType: artifactType, digest: statementDigest, size: statement.length }],
      subject: { mediaType: MediaTypes.ociManifest, digest: image.digest, size: image.size },
    },
    MediaTypes.ociManifest,
    'artifact',
  );
  const index = await pushJsonManifest(
    reg,
    repo,
    {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [
        { mediaType: MediaTypes.ociManifest, digest: artifact.digest, size: artifact.size, artifactType },
        {
          mediaType: MediaTypes.ociManifest,
          digest: image.digest,
          size: image.size,
          platform: image.platform,
        },
      ],
    },
    MediaTypes.ociIndex,
    'per-platform',
  );
  // Assembled anew (a single index would otherwise be promoted as it is, in its own order).
  const result = await runAction({
    image: `${reg.host}/${repo}`,
    tags: 'v1',
    sources: index.digest,
    promote: 'false',
  });
  expect(result.code, result.stdout).toBe(0);
  const merged = JSON.parse(result.outputs['manifest'] ?? '') as {
    manifests: { digest: string; artifactType?: string }[];
  };
  expect(merged.manifests.map((m) => m.digest)).toEqual([image.digest, artifact.digest]);
  expect(merged.manifests[1]?.artifactType).toBe(artifactType);
  expect(JSON.parse(result.outputs['platform-digests'] ?? '')).toEqual({ 'linux/amd64': image.digest });
});

describe('bad inputs fail, name the input, and leave the tag alone', () => {
  const repo = 'e2e/bad';
  let images: PushedImage[];
  let oci: PushedImage;
  let attestation: string;
  let tagged: string;
  const image = () => `${proxy.host}/${repo}`;

  beforeAll(async () => {
    images = await pushAll(repo, 'docker', 3);
    oci = await pushImage(reg, repo, {
      platform: { os: 'linux', architecture: 'arm64' },
      format: 'oci',
      seed: 'oci',
    });
    attestation = (await pushBuildxIndex(reg, repo, { platform: { os: 'linux', architecture: 's390x' } }))
      .attestation.digest;
    const setup = await runAction({
      image: image(),
      tags: 'current',
      sources: sourcesOf(images),
    });
    expect(setup.code, setup.stdout).toBe(0);
    tagged = setup.outputs['digest'] ?? '';
  });

  const amd64 = () => images[0]?.digest ?? '';
  const arm64 = () => images[1]?.digest ?? '';
  const other = `sha256:${'e'.repeat(64)}`;

  test.each([
    ['a malformed digest', () => ({ sources: `${amd64()}\nsha256:1234` }), /sources/, () => /sha256:1234/],
    [
      'an unknown digest, after wait-timeout',
      () => ({ sources: `${amd64()}\n${other}`, 'wait-timeout': '2s' }),
      /sources/,
      () => new RegExp(other),
    ],
    [
      'an attestation manifest given as a source',
      () => ({ sources: `${amd64()}\n${attestation}` }),
      /sources/,
      () => new RegExp(`${attestation}.*is an attestation manifest .*give the image's digest`),
    ],
    [
      'two digests for one platform',
      () => ({ sources: `${amd64()}\n${oci.digest}\n${arm64()}` }),
      /two images for linux\/arm64/,
      () => new RegExp(oci.digest),
    ],
    [
      'a wrong asserted platform',
      () => ({ sources: `linux/s390x=${amd64()}` }),
      /sources/,
      () => /linux\/s390x/,
    ],
    [
      'a platforms mismatch',
      () => ({ sources: `${amd64()}\n${arm64()}`, platforms: 'linux/amd64,linux/riscv64' }),
      /platforms/,
      () => /missing linux\/riscv64/,
    ],
    [
      'if-tag-exists: fail on a tag at another digest',
      () => ({ sources: amd64(), 'if-tag-exists': 'fail' }),
      /if-tag-exists/,
      () => new RegExp(tagged),
    ],
    [
      'media-type: docker with OCI children',
      () => ({ sources: `${amd64()}\n${oci.digest}`, 'media-type': 'docker' }),
      /media-type/,
      () => /oci/,
    ],
  ])('%s', async (_name, inputs, names, detail) => {
    const before = proxy.log.length;
    const result = await runAction({ image: image(), tags: 'current', ...inputs() });
    expect(result.code).toBe(1);
    const error = errorLine(result);
    expect(error).toMatch(names);
    expect(error).toMatch(detail());
    expect(result.outputs).toEqual({});
    // No tag PUT: each refusal comes before any write.
    const tagPuts = requestsSince(before).filter((r) => r.startsWith('PUT') && !/manifests\/sha256:/.test(r));
    expect(tagPuts).toEqual([]);
    expect((await fetchManifest(reg, repo, 'current')).digest).toBe(tagged);
  });
});

describe('docker/metadata-action outputs', () => {
  test('full tag references and leveled annotations, with a warning for a created time of this run', async () => {
    const repo = 'e2e/metadata';
    const images = await pushAll(repo, 'oci', 2);
    const image = `${reg.host}/${repo}`;
    // A time of this run, with a non-zero fraction of a second as a clock gives it (a commit time has none).
    const created = new Date(Math.floor(Date.now() / 1000) * 1000 + 123).toISOString();
    // As metadata-action prints them with DOCKER_METADATA_ANNOTATIONS_LEVELS=manifest,index.
    const annotations = [
      `manifest:org.opencontainers.image.created=${created}`,
      'manifest:org.opencontainers.image.source=https://github.com/octo-org/app',
      `index:org.opencontainers.image.created=${created}`,
      'index:org.opencontainers.image.source=https://github.com/octo-org/app',
      'index:org.opencontainers.image.revision=860c1904a1ce19322e91ac35af1ab07466440c37',
    ].join('\n');
    const result = await runAction({
      image,
      tags: `${image}:main\n${image}:sha-860c190`,
      sources: sourcesOf(images),
      annotations,
    });
    expect(result.code, result.stdout).toBe(0);
    expect(JSON.parse(result.outputs['tags'] ?? '')).toEqual([`${image}:main`, `${image}:sha-860c190`]);
    const index = JSON.parse(result.outputs['manifest'] ?? '') as { annotations: Record<string, string> };
    expect(index.annotations).toEqual({
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.revision': '860c1904a1ce19322e91ac35af1ab07466440c37',
      'org.opencontainers.image.source': 'https://github.com/octo-org/app',
    });
    expect(Object.keys(index.annotations)).toEqual(Object.keys(index.annotations).sort());
    expect(result.stdout).toMatch(
      /::warning title=Annotation changes every run::annotations: org\.opencontainers\.image\.created=/,
    );
    expect(result.stdout).toContain('2 manifest: line(s) not set');

    // A pinned creation time (the commit's) gives no warning.
    const pinned = await runAction({
      image,
      tags: 'pinned',
      sources: sourcesOf(images),
      annotations: 'index:org.opencontainers.image.created=2024-05-01T10:00:00Z',
    });
    expect(pinned.code, pinned.stdout).toBe(0);
    expect(pinned.stdout).not.toContain('::warning');
  });

  test('a tag line for another image is refused, naming it', async () => {
    const result = await runAction({
      image: `${reg.host}/e2e/metadata`,
      tags: `${reg.host}/e2e/metadata:main\nghcr.io/someone/else:main`,
      sources: `sha256:${'a'.repeat(64)}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/::error::input "tags".*ghcr\.io\/someone\/else:main/);
  });
});
