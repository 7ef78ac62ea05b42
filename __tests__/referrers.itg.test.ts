import { afterAll, beforeAll, expect, test } from 'vitest';
import { systemClock } from '../src/clock.js';
import type { Digest } from '../src/registry/digest.js';
import { findReferrers, type ReferrerContext } from '../src/registry/referrers.js';
import { clientFor, recordingLogger, repoAt } from './helpers/client.js';
import {
  fallbackTagOf,
  fetchManifest,
  pushBlob,
  pushFallbackTag,
  pushImage,
  pushReferrer,
  served,
} from './helpers/images.js';
import { personality, referrersApi } from './helpers/personalities.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { storeAndList } from './helpers/store-and-list.js';

/**
 * Finding and storing OCI referrers against the real distribution 2.8, which has no referrers API (fallback tags),
 * and through a proxy that gives it one (as Docker Hub, ECR, ACR, Harbor, Quay, zot and distribution v3 have).
 */

let reg: TestRegistry;
/** Counts requests to the plain registry. */
let plain: TestProxy;
let withApi: TestProxy;
let api: ReturnType<typeof referrersApi>;

beforeAll(async () => {
  reg = await startRegistry();
  plain = await startProxy(reg.url);
  api = referrersApi();
  withApi = await startProxy(reg.url, { handler: personality(api) });
});
afterAll(async () => {
  await Promise.all([plain?.close(), withApi?.close()]);
  await reg?.stop();
});

const SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SBOM = 'application/spdx+json';

async function withContext<T>(use: (context: ReferrerContext) => Promise<T>): Promise<T> {
  const log = recordingLogger();
  const client = clientFor({ log });
  try {
    return await use({ client, log, clock: systemClock, deadline: systemClock.now() + 20_000 });
  } finally {
    await client.close();
  }
}

const subjectIn = (repo: string, seed: string) =>
  pushImage(reg, repo, { platform: { os: 'linux', architecture: 'amd64' }, format: 'oci', seed });

/** A referrer pushed to a side repository, with only its blobs pushed to `repo`, as a copy would have brought them. */
async function referrerFor(
  repo: string,
  subject: { mediaType: string; digest: string; size: number },
  text: string,
) {
  await Promise.all([pushBlob(reg, repo, Buffer.from('{}')), pushBlob(reg, repo, Buffer.from(text))]);
  return pushReferrer(reg, `side/${repo}`, subject, { artifactType: SIGNATURE, text });
}

test('distribution 2.8 has no referrers API: referrers are found through the fallback tag', async () => {
  const subject = await subjectIn('ref/find', 'find');
  const sbom = await pushReferrer(reg, 'ref/find', subject, { artifactType: SBOM, text: 'sbom' });
  await pushFallbackTag(reg, 'ref/find', subject.digest, [sbom.entry]);
  const found = await withContext(async (context) => {
    expect(
      await context.client.getReferrers(repoAt(reg.host, 'ref/find'), subject.digest as Digest),
    ).toBeUndefined();
    return findReferrers(repoAt(reg.host, 'ref/find'), subject.digest as Digest, context);
  });
  expect(found).toEqual({ via: 'tag', descriptors: [sbom.entry] });
});

test('without the API: stored by digest, then added to the fallback tag, keeping what it listed', async () => {
  const subject = await subjectIn('ref/store', 'store');
  const theirs = await pushReferrer(reg, 'ref/store', subject, { artifactType: SBOM, text: 'their sbom' });
  await pushFallbackTag(reg, 'ref/store', subject.digest, [theirs.entry]);
  const ours = await referrerFor('ref/store', subject, 'our signature');
  const repo = repoAt(plain.host, 'ref/store');
  const stored = await withContext((context) =>
    storeAndList(repo, [{ bytes: ours.bytes, mediaType: ours.mediaType }], context),
  );
  expect(stored).toEqual([{ descriptor: ours.entry, subject: subject.digest, via: 'tag' }]);
  const tag = fallbackTagOf(subject.digest);
  const writes = plain.log.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
  // The manifest by digest first, then the tag.
  expect(writes.map((r) => r.path.split('/').at(-1))).toEqual([ours.digest, tag]);
  const listed = (await fetchManifest(reg, 'ref/store', tag)).json?.['manifests'];
  expect(listed).toEqual([theirs.entry, ours.entry].sort((a, b) => (a.digest < b.digest ? -1 : 1)));
  expect((await fetchManifest(reg, 'ref/store', ours.digest)).text).toBe(Buffer.from(ours.bytes).toString());

  // Again: already listed, so the tag is not written a second time.
  const before = plain.log.length;
  await withContext((context) =>
    storeAndList(repo, [{ bytes: ours.bytes, mediaType: ours.mediaType }], context),
  );
  expect(plain.log.slice(before).filter((r) => r.method === 'PUT' && r.path.endsWith(tag))).toEqual([]);
});

test('with the API: the OCI-Subject answer means no fallback tag, and the API lists the referrer', async () => {
  const subject = await subjectIn('ref/api', 'api');
  const ours = await referrerFor('ref/api', subject, 'signature');
  const repo = repoAt(withApi.host, 'ref/api');
  const { stored, found } = await withContext(async (context) => ({
    stored: await storeAndList(repo, [{ bytes: ours.bytes, mediaType: ours.mediaType }], context),
    found: await findReferrers(repo, subject.digest as Digest, context),
  }));
  expect(stored.map((s) => s.via)).toEqual(['api']);
  expect(await served(reg, 'ref/api', fallbackTagOf(subject.digest))).toBeNull();
  expect(found).toEqual({ via: 'api', descriptors: [ours.entry] });
  expect(api.listed).toBeGreaterThan(0);
  expect(withApi.log.some((r) => r.path.includes(`/manifests/${fallbackTagOf(subject.digest)}`))).toBe(false);
});
