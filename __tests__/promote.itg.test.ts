import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLine, runAction } from './helpers/action.js';
import { chaos } from './helpers/chaos.js';
import {
  fallbackTagOf,
  fetchManifest,
  type PushedManifest,
  pushBuildxImage,
  pushFallbackTag,
  pushImages,
  pushReferrer,
  served,
} from './helpers/images.js';
import { makeTempDir, removeTempDir } from './helpers/local.js';
import { personality, referrersApi } from './helpers/personalities.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { errorAnswer } from './helpers/stages.js';

/**
 * SPEC "Promotion: one index, published as it is": a buildx-style index (platforms and attestation manifests),
 * given by tag or digest, published byte for byte in its own repository and in a second registry, with its
 * referrers (fallback tags on the distribution 2.8 here; the referrers API emulated by the test proxy).
 */

let one: TestRegistry;
let two: TestRegistry;
/** `two` with the referrers API. */
let twoApi: TestProxy;
/** `one` with faults set per test. */
let oneProxy: TestProxy;
let scratch: string;

beforeAll(async () => {
  [one, two] = await Promise.all([startRegistry(), startRegistry()]);
  twoApi = await startProxy(two.url, { handler: personality(referrersApi()) });
  oneProxy = await startProxy(one.url);
  scratch = await makeTempDir('mm-promote-');
});
afterAll(async () => {
  await Promise.all([twoApi?.close(), oneProxy?.close()]);
  await Promise.all([one?.stop(), two?.stop()]);
  if (scratch) await removeTempDir(scratch);
});

const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
];
const SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SBOM = 'application/spdx+json';

/** The tested image: a buildx index under `testing` in one/<repo>. */
const tested = (repo: string, seed: string) =>
  pushBuildxImage(one, repo, { platforms: PLATFORMS, seed, tag: 'testing' });

const text = (manifest: PushedManifest) => Buffer.from(manifest.bytes).toString('utf8');
const json = <T>(value: string | undefined): T => JSON.parse(value ?? 'null') as T;

describe('byte for byte', () => {
  test('by tag, into its own repository and a second registry: the same digest and bytes, skopeo copies it, a re-run writes nothing', async () => {
    const { index, images, attestations } = await tested('promo/app', 'tag');
    const inputs = {
      image: `${one.host}/promo/app\n${two.host}/promo/app`,
      tags: 'prod',
      sources: ':testing',
    };
    const result = await runAction(inputs);
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['digest']).toBe(index.digest);
    expect(result.outputs['ref']).toBe(`${one.host}/promo/app@${index.digest}`);
    expect(result.outputs['manifest']).toBe(text(index));
    expect(json(result.outputs['platform-refs'])).toEqual({
      'linux/amd64': `${one.host}/promo/app@${images[0]?.digest}`,
      'linux/arm64': `${one.host}/promo/app@${images[1]?.digest}`,
    });
    for (const [reg, repo] of [
      [one, 'promo/app'],
      [two, 'promo/app'],
    ] as const) {
      const prod = await fetchManifest(reg, repo, 'prod');
      expect(prod.digest).toBe(index.digest);
      expect(prod.text).toBe(text(index));
    }
    // Every manifest the index holds, attestations included, for retention tools.
    expect(json<string[]>(result.outputs['digests']).sort()).toEqual(
      [index.digest, ...images.map((i) => i.digest), ...attestations.map((a) => a.digest)].sort(),
    );
    expect(result.stdout).toContain(
      `:testing: ${one.host}/promo/app:testing is ${index.digest}; pinned to it`,
    );
    expect(result.summary).toContain(
      `| Source <code>${one.host}/promo/app:testing</code> | pinned to <code>${index.digest}</code> |`,
    );

    // The second registry serves the whole image: skopeo copies every platform and attestation out of it.
    const copy = spawnSync(
      'skopeo',
      [
        'copy',
        '--all',
        '--src-tls-verify=false',
        `docker://${two.host}/promo/app:prod`,
        `oci:${scratch}/layout:prod`,
      ],
      { encoding: 'utf8' },
    );
    expect(copy.status, copy.stderr).toBe(0);

    const again = await runAction(inputs);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs['written']).toBe('false');
    expect(again.outputs['digest']).toBe(index.digest);
  });

  test('by digest, into its own repository and another registry: the same digest and bytes', async () => {
    const { index } = await tested('promo/bydigest', 'digest');
    const result = await runAction({
      image: `${one.host}/promo/bydigest\n${two.host}/elsewhere/app`,
      tags: '1.0',
      sources: `${one.host}/promo/bydigest@${index.digest}`,
      // docker/metadata-action's manifest: lines have no place on a promoted index either, and say so.
      annotations: 'manifest:org.opencontainers.image.title=app',
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['digest']).toBe(index.digest);
    expect(result.stdout).toMatch(/annotations: 1 manifest: line\(s\) not set/);
    expect((await fetchManifest(one, 'promo/bydigest', '1.0')).text).toBe(text(index));
    expect((await fetchManifest(two, 'elsewhere/app', '1.0')).text).toBe(text(index));
  });

  test('a dry run names the digest it would promote and writes nothing', async () => {
    const { index } = await tested('promo/dry', 'dry');
    const result = await runAction({
      image: `${two.host}/promo/dry`,
      tags: 'prod',
      sources: `${one.host}/promo/dry:testing`,
      'dry-run': 'true',
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['digest']).toBe(index.digest);
    expect(result.outputs['written']).toBe('false');
    expect(await served(two, 'promo/dry', 'prod')).toBeNull();
    expect(await served(two, 'promo/dry', index.digest)).toBeNull();
  });

  test('a source tag that does not exist is named after wait-timeout, and nothing is written', async () => {
    const result = await runAction({
      image: `${two.host}/promo/missing`,
      tags: 'prod',
      sources: `${one.host}/promo/missing:testing`,
      'wait-timeout': '2s',
    });
    expect(result.code).toBe(1);
    expect(errorLine(result)).toContain(
      `sources: "${one.host}/promo/missing:testing": ${one.host}/promo/missing:testing does not exist, still after wait-timeout`,
    );
    expect(await served(two, 'promo/missing', 'prod')).toBeNull();
  });

  test("the source's children hidden for 3 s: the promotion waits and publishes the source digest", async () => {
    const { index, images, attestations } = await tested('promo/lag', 'lag');
    const faults = chaos({
      hidden: { digests: [...images, ...attestations].map((m) => m.digest), lagMs: 3_000 },
    });
    oneProxy.setHandler(faults.handler);
    try {
      const result = await runAction({
        image: `${two.host}/promo/lag`,
        tags: 'prod',
        sources: `${oneProxy.host}/promo/lag:testing`,
      });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs['digest']).toBe(index.digest);
      expect(faults.stats.hidden404).toBeGreaterThan(0);
      expect(await served(two, 'promo/lag', 'prod')).toBe(index.digest);
    } finally {
      oneProxy.setHandler(undefined);
    }
  });
});

describe('referrers', () => {
  /** A signature on the index, an SBOM on the amd64 image and a signature of that SBOM, in fallback tags. */
  async function signed(repo: string, seed: string) {
    const built = await tested(repo, seed);
    const amd64 = built.images[0] as PushedManifest;
    const [signature, sbom] = await Promise.all([
      pushReferrer(one, repo, built.index, { artifactType: SIGNATURE, text: `signature of ${seed}` }),
      pushReferrer(one, repo, amd64, { artifactType: SBOM, text: `sbom of ${seed}` }),
    ]);
    const sbomSignature = await pushReferrer(one, repo, sbom, {
      artifactType: SIGNATURE,
      text: `sbom sig ${seed}`,
    });
    await Promise.all([
      pushFallbackTag(one, repo, built.index.digest, [signature.entry]),
      pushFallbackTag(one, repo, amd64.digest, [sbom.entry]),
      pushFallbackTag(one, repo, sbom.digest, [sbomSignature.entry]),
    ]);
    return { ...built, amd64, signature, sbom, sbomSignature };
  }

  test('to a registry without the API: stored with identical bytes, listed in its fallback tags, those there kept', async () => {
    const s = await signed('promo/signed', 'signed');
    // Someone else's signature of the same index, already in the target.
    const theirs = await pushReferrer(two, 'promo/signed', s.index, {
      artifactType: SIGNATURE,
      text: 'theirs',
    });
    await pushFallbackTag(two, 'promo/signed', s.index.digest, [theirs.entry]);

    const result = await runAction({
      image: `${two.host}/promo/signed`,
      tags: 'prod',
      sources: `${one.host}/promo/signed:testing`,
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['digest']).toBe(s.index.digest);
    for (const referrer of [s.signature, s.sbom, s.sbomSignature]) {
      expect((await fetchManifest(two, 'promo/signed', referrer.digest)).text).toBe(text(referrer));
    }
    const listed = async (subject: string) =>
      (await fetchManifest(two, 'promo/signed', fallbackTagOf(subject))).json?.['manifests'];
    const byDigest = (a: { digest: string }, b: { digest: string }) => (a.digest < b.digest ? -1 : 1);
    expect(await listed(s.index.digest)).toEqual([s.signature.entry, theirs.entry].sort(byDigest));
    expect(await listed(s.amd64.digest)).toEqual([s.sbom.entry]);
    expect(await listed(s.sbom.digest)).toEqual([s.sbomSignature.entry]);
    expect(json<string[]>(result.outputs['digests'])).toEqual(
      expect.arrayContaining([s.signature.digest, s.sbom.digest, s.sbomSignature.digest]),
    );
  });

  test('to a registry with the API: listed by the API, no fallback tag written', async () => {
    const s = await signed('promo/api', 'api');
    const result = await runAction({
      image: `${twoApi.host}/promo/api`,
      tags: 'prod',
      sources: `${one.host}/promo/api@${s.index.digest}`,
    });
    expect(result.code, result.stdout).toBe(0);
    const listedByApi = async (subject: string) => {
      const response = await fetch(`${twoApi.url}/v2/promo/api/referrers/${subject}`);
      return ((await response.json()) as { manifests: unknown[] }).manifests;
    };
    expect(await listedByApi(s.index.digest)).toEqual([s.signature.entry]);
    expect(await listedByApi(s.amd64.digest)).toEqual([s.sbom.entry]);
    expect(await listedByApi(s.sbom.digest)).toEqual([s.sbomSignature.entry]);
    expect(await served(two, 'promo/api', fallbackTagOf(s.index.digest))).toBeNull();
  });

  /** Per-platform images in one/<repo>, each with a signature listed in its fallback tag. */
  async function signedImages(repo: string, seed: string) {
    const images = await pushImages(one, repo, { seed });
    const signatures = await Promise.all(
      images.map(async (image) => {
        const signature = await pushReferrer(one, repo, image, {
          artifactType: SIGNATURE,
          text: `signature of ${image.digest}`,
        });
        await pushFallbackTag(one, repo, image.digest, [signature.entry]);
        return signature;
      }),
    );
    return { images, signatures };
  }

  test('per-platform sources merged from another repository bring their signatures', async () => {
    const { images, signatures } = await signedImages('promo/merge-src', 'merge');
    const result = await runAction({
      image: `${two.host}/promo/merged`,
      tags: 'latest',
      sources: images.map((i) => `${one.host}/promo/merge-src@${i.digest}`).join('\n'),
    });
    expect(result.code, result.stdout).toBe(0);
    for (const [i, image] of images.entries()) {
      const signature = signatures[i] as (typeof signatures)[number];
      expect((await fetchManifest(two, 'promo/merged', signature.digest)).text).toBe(text(signature));
      expect(
        (await fetchManifest(two, 'promo/merged', fallbackTagOf(image.digest))).json?.['manifests'],
      ).toEqual([signature.entry]);
    }
    expect(json<string[]>(result.outputs['digests'])).toEqual([
      result.outputs['digest'],
      ...images.map((i) => i.digest),
      ...signatures.map((s) => s.digest).sort(),
    ]);
  });

  test('a run refused after the copy (platforms do not match) writes no fallback tag and no tag', async () => {
    const { images, signatures } = await signedImages('promo/refused-src', 'refused');
    const result = await runAction({
      image: `${two.host}/promo/refused`,
      tags: 'latest',
      sources: images.map((i) => `${one.host}/promo/refused-src@${i.digest}`).join('\n'),
      platforms: 'linux/amd64,linux/arm64,linux/s390x',
    });
    expect(result.code, result.stdout).toBe(1);
    expect(errorLine(result), result.stdout).toContain('linux/s390x');
    expect(await served(two, 'promo/refused', 'latest')).toBeNull();
    for (const [i, image] of images.entries()) {
      // The content was brought (by digest), but no tag of any kind was written.
      expect(await served(two, 'promo/refused', (signatures[i] as PushedManifest).digest)).not.toBeNull();
      expect(await served(two, 'promo/refused', fallbackTagOf(image.digest))).toBeNull();
    }
  });

  test('referrers: skip brings none', async () => {
    const s = await signed('promo/skip', 'skip');
    const result = await runAction({
      image: `${two.host}/promo/skip`,
      tags: 'prod',
      sources: `${one.host}/promo/skip:testing`,
      referrers: 'skip',
    });
    expect(result.code, result.stdout).toBe(0);
    expect(await served(two, 'promo/skip', s.signature.digest)).toBeNull();
    expect(await served(two, 'promo/skip', fallbackTagOf(s.index.digest))).toBeNull();
  });
});

describe('options that would change the index', () => {
  test('promote: true with annotations is an input error naming it, and no tag moves in any image', async () => {
    const { index } = await tested('promo/strict', 'strict');
    const old = await tested('promo/strict-old', 'old');
    const images = `${one.host}/promo/strict\n${two.host}/promo/strict`;
    const before = await runAction({
      image: images,
      tags: 'prod',
      sources: `${one.host}/promo/strict-old:testing`,
    });
    expect(before.code, before.stdout).toBe(0);
    const result = await runAction({
      image: images,
      tags: 'prod',
      sources: ':testing',
      promote: 'true',
      annotations: 'org.opencontainers.image.title=other',
    });
    expect(result.code).toBe(1);
    expect(errorLine(result)).toContain(
      `input "annotations": promote: true publishes ":testing" (${index.digest}) byte for byte, but annotations would set org.opencontainers.image.title=other on it`,
    );
    expect(await served(one, 'promo/strict', 'prod')).toBe(old.index.digest);
    expect(await served(two, 'promo/strict', 'prod')).toBe(old.index.digest);
  });

  test('promote: true with several sources is an input error', async () => {
    const { images } = await tested('promo/several', 'several');
    const result = await runAction({
      image: `${one.host}/promo/several`,
      tags: 'prod',
      sources: images.map((i) => i.digest).join('\n'),
      promote: 'true',
    });
    expect(result.code).toBe(1);
    expect(errorLine(result)).toContain(
      'input "promote": true publishes one index byte for byte, but 2 sources are given',
    );
    expect(await served(one, 'promo/several', 'prod')).toBeNull();
  });

  test('promote: auto with annotations assembles anew, with a different digest and the notice', async () => {
    const { index } = await tested('promo/auto', 'auto');
    const result = await runAction({
      image: `${one.host}/promo/auto`,
      tags: 'prod',
      sources: ':testing',
      annotations: 'org.opencontainers.image.title=app',
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['digest']).not.toBe(index.digest);
    expect(await served(one, 'promo/auto', 'prod')).toBe(result.outputs['digest']);
    expect(result.stdout).toMatch(
      new RegExp(
        `::warning title=Index assembled anew::promote: auto: ":testing" is an index, but annotations would set org.opencontainers.image.title=app on it, so it is assembled anew and its digest differs from the source's ${index.digest}`,
      ),
    );
  });
});

test('several images: all or nothing, as for a merge', async () => {
  const { index } = await tested('promo/aon', 'aon');
  const old = await tested('promo/aon-old', 'aon-old');
  // The second image refuses every manifest write, as a registry without push access does.
  const refusing = await startProxy(two.url, {
    handler: personality(async (req, next) =>
      req.method === 'PUT' && req.path.includes('/manifests/')
        ? errorAnswer(req, 403, [{ code: 'DENIED', message: 'requested access to the resource is denied' }])
        : next(req),
    ),
  });
  try {
    const seeded = await runAction({
      image: `${one.host}/promo/aon`,
      tags: 'prod',
      sources: `${one.host}/promo/aon-old:testing`,
    });
    expect(seeded.code, seeded.stdout).toBe(0);
    const result = await runAction({
      image: `${one.host}/promo/aon\n${refusing.host}/promo/aon`,
      tags: 'prod',
      sources: ':testing',
    });
    expect(result.code).toBe(1);
    expect(errorLine(result)).toMatch(/403|denied/i);
    expect(await served(one, 'promo/aon', 'prod')).toBe(old.index.digest);
    expect(await served(two, 'promo/aon', 'prod')).toBeNull();
    expect(index.digest).not.toBe(old.index.digest);
  } finally {
    await refusing.close();
  }
});
