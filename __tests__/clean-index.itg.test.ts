import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLine, runAction } from './helpers/action.js';
import { chaos } from './helpers/chaos.js';
import {
  fallbackTagOf,
  fetchManifest,
  MediaTypes,
  pushBuildxIndex,
  pushImage,
  pushImages,
  pushJsonManifest,
  pushManifest,
  served,
  sourcesOf,
} from './helpers/images.js';
import { personality, referrersApi } from './helpers/personalities.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { startProxiedRegistry, stopProxiedRegistry, type TestRegistry } from './helpers/registry.js';

/**
 * A clean, informative index, end to end against the registry: provenance without `unknown/unknown` entries
 * (attestations stored as referrers), annotations at every level, the labels every platform agrees on as index
 * annotations, and no silent shrink of a tag's platforms.
 */

let reg: TestRegistry;
let proxy: TestProxy;
/** The same registry with a referrers API, as Docker Hub, ECR, ACR, Harbor, Quay, zot and distribution v3 have. */
let withApi: TestProxy;
let api: ReturnType<typeof referrersApi>;
beforeAll(async () => {
  ({ reg, proxy } = await startProxiedRegistry());
  api = referrersApi();
  withApi = await startProxy(reg.url, { handler: personality(api) });
});
afterAll(async () => {
  await withApi?.close();
  await stopProxiedRegistry(reg, proxy);
});

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64' };
const S390X = { os: 'linux', architecture: 's390x' };

interface Entry {
  digest: string;
  platform?: { architecture: string };
  annotations?: Record<string, string>;
}

async function indexAt(repo: string, reference: string) {
  const fetched = await fetchManifest(reg, repo, reference);
  const json = fetched.json as {
    mediaType: string;
    manifests: Entry[];
    annotations?: Record<string, string>;
  };
  return json;
}

describe('provenance without clutter (attestations: referrers)', () => {
  const ATTESTATION_TYPE = 'application/vnd.docker.attestation.manifest.v1+json';

  /** Two buildx-style per-platform sources, each an index of its image and its provenance attestation. */
  async function buildxSources(repo: string) {
    return Promise.all([
      pushBuildxIndex(reg, repo, { platform: AMD64 }),
      pushBuildxIndex(reg, repo, { platform: ARM64 }),
    ]);
  }

  /** The referrer stored for `pushed`: the same config and layers as its attestation, `subject` its image. */
  async function expectReferrer(
    repo: string,
    pushed: Awaited<ReturnType<typeof buildxSources>>[number],
    digest: string,
  ) {
    const referrer = await fetchManifest(reg, repo, digest);
    const attestation = JSON.parse(Buffer.from(pushed.attestation.bytes).toString()) as Record<
      string,
      unknown
    >;
    expect(referrer.json?.['artifactType']).toBe(ATTESTATION_TYPE);
    expect(referrer.json?.['mediaType']).toBe(MediaTypes.ociManifest);
    expect(referrer.json?.['config']).toEqual(attestation['config']);
    expect(referrer.json?.['layers']).toEqual(attestation['layers']);
    expect(referrer.json?.['subject']).toEqual({
      mediaType: pushed.image.mediaType,
      digest: pushed.image.digest,
      size: pushed.image.size,
    });
  }

  test('without a referrers API: out of the index, found through each image fallback tag', async () => {
    const repo = 'clean/referrers-tag';
    const sources = await buildxSources(repo);
    const result = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'latest',
      sources: sourcesOf(sources.map((s) => s.index)),
      attestations: 'referrers',
    });
    expect(result.code, result.stdout).toBe(0);

    const index = await indexAt(repo, 'latest');
    expect(index.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
    expect(JSON.stringify(index)).not.toContain('unknown');
    for (const pushed of sources) {
      const listed = (await fetchManifest(reg, repo, fallbackTagOf(pushed.image.digest))).json as {
        manifests: { digest: string; artifactType?: string }[];
      };
      expect(listed.manifests).toHaveLength(1);
      expect(listed.manifests[0]?.artifactType).toBe(ATTESTATION_TYPE);
      await expectReferrer(repo, pushed, listed.manifests[0]?.digest ?? '');
      // Clean-up tools keep what `digests` lists: the referrer, not the attestation it replaced.
      const digests = JSON.parse(result.outputs['digests'] ?? '[]') as string[];
      expect(digests).toContain(listed.manifests[0]?.digest);
      expect(digests).toContain(pushed.image.digest);
      expect(digests).not.toContain(pushed.attestation.digest);
    }
    expect(result.summary).toContain(
      '2 attestations stored as OCI referrers of their images, not in the index',
    );
    expect(result.summary).toContain(
      `fallback tags <code>${fallbackTagOf(sources[0]?.image.digest ?? '')}</code>`,
    );
  });

  test('with a referrers API: listed there, and no fallback tag is written', async () => {
    const repo = 'clean/referrers-api';
    const sources = await buildxSources(repo);
    const image = `${withApi.host}/${repo}`;
    const result = await runAction({
      image,
      tags: 'latest',
      sources: sourcesOf(sources.map((s) => s.index)),
      attestations: 'referrers',
    });
    expect(result.code, result.stdout).toBe(0);

    for (const pushed of sources) {
      const response = await fetch(`http://${withApi.host}/v2/${repo}/referrers/${pushed.image.digest}`);
      const listed = (await response.json()) as { manifests: { digest: string; artifactType?: string }[] };
      expect(listed.manifests.map((m) => m.artifactType)).toEqual([ATTESTATION_TYPE]);
      await expectReferrer(repo, pushed, listed.manifests[0]?.digest ?? '');
      expect(await served(reg, repo, fallbackTagOf(pushed.image.digest))).toBeNull();
    }
    expect(result.summary).toContain(`<code>${withApi.host}/${repo}</code>: the referrers API`);
  });

  test('several images: stored in each; a dry run stores none and says so', async () => {
    const repos = ['clean/referrers-one', 'clean/referrers-two'];
    const sources = await buildxSources(repos[0] as string);
    const inputs = {
      image: repos.map((repo) => `${proxy.host}/${repo}`).join('\n'),
      tags: 'latest',
      sources: sourcesOf(sources.map((s) => s.index)),
      attestations: 'referrers',
    };
    const dry = await runAction({ ...inputs, 'dry-run': 'true' });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.stdout).toContain('dry run: 2 attestations would leave the index and be stored as referrers');
    for (const repo of repos) {
      expect(await served(reg, repo, fallbackTagOf(sources[0]?.image.digest ?? ''))).toBeNull();
    }

    const result = await runAction(inputs);
    expect(result.code, result.stdout).toBe(0);
    for (const repo of repos) {
      for (const pushed of sources) {
        const listed = (await fetchManifest(reg, repo, fallbackTagOf(pushed.image.digest))).json as {
          manifests: { digest: string }[];
        };
        await expectReferrer(repo, pushed, listed.manifests[0]?.digest ?? '');
      }
    }
  });

  test('keep, the default, leaves each attestation in the index after its image', async () => {
    const repo = 'clean/referrers-keep';
    const sources = await buildxSources(repo);
    const result = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'latest',
      sources: sourcesOf(sources.map((s) => s.index)),
    });
    expect(result.code, result.stdout).toBe(0);
    const index = await indexAt(repo, 'latest');
    expect(index.manifests.map((m) => m.digest)).toEqual(
      sources.flatMap((s) => [s.image.digest, s.attestation.digest]),
    );
    expect(await served(reg, repo, fallbackTagOf(sources[0]?.image.digest ?? ''))).toBeNull();
  });
});

describe('annotations at every level', () => {
  test('manifest-descriptor: on every platform entry, index: on the index, the other levels explained', async () => {
    const repo = 'clean/levels';
    const [amd, arm] = await Promise.all([
      pushBuildxIndex(reg, repo, { platform: AMD64 }),
      pushBuildxIndex(reg, repo, { platform: ARM64 }),
    ]);
    const result = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'latest',
      sources: sourcesOf([amd.index, arm.index]),
      annotations: [
        'manifest-descriptor:org.opencontainers.image.title=app',
        'manifest-descriptor[linux/arm64]:org.example.arch=arm',
        'index:org.opencontainers.image.description=An app',
        'org.opencontainers.image.licenses=MIT',
        'index-descriptor:org.example.unused=1',
        'manifest:org.example.build-time=1',
      ].join('\n'),
    });
    expect(result.code, result.stdout).toBe(0);

    const index = await indexAt(repo, 'latest');
    expect(index.annotations).toEqual({
      'org.opencontainers.image.description': 'An app',
      'org.opencontainers.image.licenses': 'MIT',
    });
    const byDigest = new Map(index.manifests.map((entry) => [entry.digest, entry.annotations]));
    expect(byDigest.get(amd.image.digest)).toEqual({ 'org.opencontainers.image.title': 'app' });
    expect(byDigest.get(arm.image.digest)).toEqual({
      'org.example.arch': 'arm',
      'org.opencontainers.image.title': 'app',
    });
    // The attestation entries keep Docker's own annotations only.
    expect(Object.keys(byDigest.get(amd.attestation.digest) ?? {}).sort()).toEqual([
      'vnd.docker.reference.digest',
      'vnd.docker.reference.type',
    ]);
    // Every level that has no place says so once, with the way out.
    expect(result.stdout.match(/index-descriptor: line\(s\) left out/g)).toHaveLength(1);
    expect(result.stdout).toMatch(
      /1 manifest: line\(s\) not set \(manifest:org\.example\.build-time=1\).*Set them at build time/,
    );
  });
});

describe('labels become index annotations', () => {
  test('labels every platform agrees on go on the index; a differing or missing one does not; annotations win', async () => {
    const repo = 'clean/labels';
    const shared = {
      'org.opencontainers.image.description': 'An app from its labels',
      'org.opencontainers.image.source': 'https://github.com/org/app',
      'org.opencontainers.image.url': 'https://example.com/app',
      'org.opencontainers.image.revision': 'not one of the seven',
    };
    const [amd, arm] = await Promise.all([
      pushBuildxIndex(reg, repo, {
        platform: AMD64,
        labels: {
          ...shared,
          'org.opencontainers.image.title': 'app (amd64)',
          'org.opencontainers.image.licenses': 'MIT',
        },
      }),
      pushBuildxIndex(reg, repo, {
        platform: ARM64,
        labels: { ...shared, 'org.opencontainers.image.title': 'app (arm64)' },
      }),
    ]);
    const result = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'latest',
      sources: sourcesOf([amd.index, arm.index]),
      annotations: 'org.opencontainers.image.url=https://example.com/given',
    });
    expect(result.code, result.stdout).toBe(0);

    const index = await indexAt(repo, 'latest');
    expect(index.annotations).toEqual({
      'org.opencontainers.image.description': 'An app from its labels',
      'org.opencontainers.image.source': 'https://github.com/org/app',
      'org.opencontainers.image.url': 'https://example.com/given',
    });
    expect(result.stdout).toContain(
      'index annotations from the labels every platform agrees on: org.opencontainers.image.description, ' +
        'org.opencontainers.image.source',
    );
  });

  test('image sources (configs read once for their platform) give labels too; a Docker list gets none', async () => {
    const repo = 'clean/labels-docker';
    const labels = { 'org.opencontainers.image.description': 'Docker images' };
    const images = await Promise.all(
      [AMD64, ARM64].map((platform) => pushImage(reg, repo, { platform, format: 'docker', labels })),
    );
    const list = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'list',
      sources: sourcesOf(images),
    });
    expect(list.code, list.stdout).toBe(0);
    expect((await indexAt(repo, 'list')).annotations).toBeUndefined();
    expect(list.stdout).toContain('a Docker manifest list has no annotations');

    const oci = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'oci',
      sources: sourcesOf(images),
      'media-type': 'oci',
    });
    expect(oci.code, oci.stdout).toBe(0);
    expect((await indexAt(repo, 'oci')).annotations).toEqual(labels);
  });
});

describe('no silent shrink', () => {
  test('a run missing a platform the tag holds is refused in every image, naming it; platforms allows it', async () => {
    const repos = ['clean/shrink-a', 'clean/shrink-b'];
    const [amd, arm] = await Promise.all([
      pushImage(reg, repos[0] as string, { platform: AMD64, format: 'oci' }),
      pushImage(reg, repos[0] as string, { platform: ARM64, format: 'oci' }),
    ]);
    const image = repos.map((repo) => `${proxy.host}/${repo}`).join('\n');
    const both = await runAction({ image, tags: 'latest', sources: sourcesOf([amd, arm]) });
    expect(both.code, both.stdout).toBe(0);
    // A tag holding a single image (as a build pushes it) is overwritten as always.
    await Promise.all(
      repos.map((repo) => pushImage(reg, repo, { platform: AMD64, format: 'oci', tag: 'single' })),
    );
    const overSingle = await runAction({ image, tags: 'single', sources: sourcesOf([arm]) });
    expect(overSingle.code, overSingle.stdout).toBe(0);
    for (const repo of repos) expect(await served(reg, repo, 'single')).toBe(overSingle.outputs['digest']);

    const refused = await runAction({ image, tags: 'latest,fresh', sources: sourcesOf([amd]) });

    expect(refused.code).toBe(1);
    const error = errorLine(refused);
    expect(error).toContain(
      `${proxy.host}/clean/shrink-a:latest holds ${both.outputs['digest']}, which also has linux/arm64`,
    );
    expect(error).toContain(`${proxy.host}/clean/shrink-b:latest holds`);
    expect(error).toContain('writing would drop linux/arm64, so no tag was moved');
    expect(error).toContain('or set platforms: linux/amd64 to confirm the smaller set on purpose');
    for (const repo of repos) {
      expect(await served(reg, repo, 'latest')).toBe(both.outputs['digest']);
      expect(await served(reg, repo, 'fresh')).toBeNull();
    }

    const confirmed = await runAction({
      image,
      tags: 'latest',
      sources: sourcesOf([amd]),
      platforms: 'linux/amd64',
    });
    expect(confirmed.code, confirmed.stdout).toBe(0);
    for (const repo of repos) expect(await served(reg, repo, 'latest')).toBe(confirmed.outputs['digest']);
  });

  test('the tag is checked on what it holds right before the write, not at the start', async () => {
    const repo = 'clean/shrink-stale';
    const sources = await pushImages(reg, repo);
    const s390x = await pushImage(reg, repo, { platform: S390X, format: 'oci' });
    // What another writer puts on the tag while the run waits: an index with a platform this run lacks.
    const theirs = await pushJsonManifest(
      reg,
      repo,
      {
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [...sources, s390x].map((image) => ({
          mediaType: image.mediaType,
          digest: image.digest,
          size: image.size,
          platform: image.platform,
        })),
      },
      MediaTypes.ociIndex,
    );
    const c = chaos({ hidden: { digests: [sources[1]?.digest ?? ''], lagMs: 2_500 } });
    proxy.setHandler(c.handler);
    try {
      const run = runAction({ image: `${proxy.host}/${repo}`, tags: 'shared', sources: sourcesOf(sources) });
      while (c.stats.hidden404 < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      await pushManifest(reg, repo, 'shared', theirs.bytes, theirs.mediaType);
      const result = await run;
      expect(result.code).toBe(1);
      expect(errorLine(result)).toContain(`:shared holds ${theirs.digest}, which also has linux/s390x`);
      expect(await served(reg, repo, 'shared')).toBe(theirs.digest);
    } finally {
      proxy.setHandler(undefined);
    }
  });

  test('attestation entries are not platforms: dropping provenance is not a shrink', async () => {
    const repo = 'clean/shrink-attestations';
    const [amd, arm] = await Promise.all([
      pushBuildxIndex(reg, repo, { platform: AMD64 }),
      pushBuildxIndex(reg, repo, { platform: ARM64 }),
    ]);
    const image = `${proxy.host}/${repo}`;
    const kept = await runAction({ image, tags: 'latest', sources: sourcesOf([amd.index, arm.index]) });
    expect(kept.code, kept.stdout).toBe(0);
    const dropped = await runAction({
      image,
      tags: 'latest',
      sources: sourcesOf([amd.index, arm.index]),
      attestations: 'drop',
    });
    expect(dropped.code, dropped.stdout).toBe(0);
    expect(await served(reg, repo, 'latest')).toBe(dropped.outputs['digest']);
  });
});
