import { afterEach, expect, test } from 'vitest';
import { nextLink } from '../src/registry/client.js';
import type { Digest } from '../src/registry/digest.js';
import {
  fallbackTag,
  findReferrers,
  MAX_REFERRERS,
  referrerOf,
  SETTLE_MS,
} from '../src/registry/referrers.js';
import {
  descriptor as descriptorOf,
  type Entry,
  type Pushed,
  referrerEntry,
  type ScriptedRegistry,
  scriptedWorld,
  TYPES,
} from './helpers/scripted-registry.js';
import { storeAndList } from './helpers/store-and-list.js';

/** Finding and storing OCI referrers, against scripted registries with and without the referrers API. */

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SBOM = 'application/spdx+json';

function world(options: { api: boolean }) {
  const w = scriptedWorld(['reg.test']);
  closers.push(w.close);
  w.registry.referrersApi = options.api;
  const repo = w.registry.repo('org/app');
  const subject = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  return { ...w, repo, subject };
}

/** A referrer pushed to a side repository, so storing it in org/app is what puts it there. */
function referrer(registry: ScriptedRegistry, subject: Entry, artifactType: string, text: string) {
  const pushed = registry.pushReferrer('side/app', subject, { artifactType, text });
  // Its blobs are where it will be stored, as a copy would have brought them.
  registry.pushBlob('org/app', Buffer.from('{}'), TYPES.ociEmpty);
  registry.pushBlob('org/app', Buffer.from(text), artifactType);
  return pushed;
}

const asManifest = (pushed: Pushed) => ({ bytes: pushed.bytes, mediaType: pushed.mediaType });
const tagOf = (entry: Entry) => fallbackTag(entry.digest as Digest);

test.each([
  [`sha256:${'a'.repeat(64)}`, `sha256-${'a'.repeat(64)}`],
  // The tag schema cuts the hex at 64 characters (tags are at most 128).
  [`sha512:${'b'.repeat(128)}`, `sha512-${'b'.repeat(64)}`],
])('the fallback tag of %s is %s', (digest, tag) => {
  expect(fallbackTag(digest as Digest)).toBe(tag);
});

test.each([
  ['</v2/a/referrers/x?n=1&last=y>; rel="next"', 'https://r.test/v2/a/referrers/x?n=1&last=y'],
  ['<https://r.test/next>; type="x", <https://r.test/p>; rel=next', 'https://r.test/p'],
  ['<https://r.test/prev>; rel="prev"', undefined],
  [undefined, undefined],
])('Link %s gives next %s', (header, next) => {
  expect(nextLink(header, 'https://r.test/v2/a/referrers/x')).toBe(next);
});

test('the descriptor of a referrer has its artifactType, else its config media type, and its annotations', () => {
  const w = world({ api: false });
  const signature = w.registry.pushReferrer('org/app', w.subject, {
    artifactType: SIGNATURE,
    text: 'sig',
    annotations: { 'dev.cosignproject.cosign/signature': 'MEUC' },
  });
  expect(referrerOf(asManifest(signature), 'reg.test/org/app')).toEqual({
    descriptor: {
      mediaType: TYPES.ociManifest,
      digest: signature.digest,
      size: signature.size,
      artifactType: SIGNATURE,
      annotations: { 'dev.cosignproject.cosign/signature': 'MEUC' },
    },
    subject: w.subject.digest,
  });
  const typedByConfig = w.registry.pushManifest('org/app', {
    schemaVersion: 2,
    mediaType: TYPES.ociManifest,
    config: { mediaType: 'application/vnd.example.sbom.config', digest: w.subject.digest, size: 2 },
    layers: [],
    subject: { mediaType: w.subject.mediaType, digest: w.subject.digest, size: w.subject.size },
  });
  expect(referrerOf(asManifest(typedByConfig), 'x').descriptor.artifactType).toBe(
    'application/vnd.example.sbom.config',
  );
  expect(() => referrerOf(asManifest(w.subject), 'reg.test/org/app')).toThrow(
    `reg.test/org/app@${w.subject.digest} has no valid subject: it is not a referrer`,
  );
});

test('without the API: found through the fallback tag; none when there is no tag', async () => {
  const w = world({ api: false });
  expect(await findReferrers(w.repo, w.subject.digest as Digest, w.context)).toEqual({
    via: 'tag',
    descriptors: [],
  });
  const signature = w.registry.pushReferrer('org/app', w.subject, { artifactType: SIGNATURE, text: 'sig' });
  w.registry.pushFallbackTag('org/app', w.subject.digest, [referrerEntry(signature)]);
  expect(await findReferrers(w.repo, w.subject.digest as Digest, w.context)).toEqual({
    via: 'tag',
    descriptors: [{ ...referrerEntry(signature) }],
  });
  // The API was asked first and answered 404.
  expect(w.registry.requests('org/app', 'referrers/', 'GET').map((r) => r.status)).toEqual([404, 404]);
});

test.each([400, 405, 501])(
  'a referrers path answered %i is taken as no API: the fallback tag is read',
  async (status) => {
    const w = world({ api: false });
    w.registry.referrersScript = { status };
    const signature = w.registry.pushReferrer('org/app', w.subject, { artifactType: SIGNATURE, text: 'sig' });
    w.registry.pushFallbackTag('org/app', w.subject.digest, [referrerEntry(signature)]);
    expect(await findReferrers(w.repo, w.subject.digest as Digest, w.context)).toEqual({
      via: 'tag',
      descriptors: [referrerEntry(signature)],
    });
    expect(w.lines).toContainEqual(
      expect.stringMatching(new RegExp(`referrers API answered ${status}; taken as no API`)),
    );
  },
);

test('a referrers answer that is not an OCI index is refused, naming what it was', async () => {
  const w = world({ api: true });
  w.registry.referrersScript = { contentType: 'text/html' };
  await expect(findReferrers(w.repo, w.subject.digest as Digest, w.context)).rejects.toThrow(
    'the referrers API answered "text/html", not an OCI index; refusing it',
  );
});

test('a referrers index labelled application/json is read as the index it is', async () => {
  const w = world({ api: true });
  w.registry.referrersScript = { contentType: 'application/json' };
  const signature = w.registry.pushReferrer('org/app', w.subject, { artifactType: SIGNATURE, text: 'sig' });
  expect(await findReferrers(w.repo, w.subject.digest as Digest, w.context)).toEqual({
    via: 'api',
    descriptors: [referrerEntry(signature)],
  });
});

test('an API answer listing more than MAX_REFERRERS entries is one error, before any entry is looked at', async () => {
  const w = world({ api: true });
  w.registry.referrersScript = { manifests: Array.from({ length: MAX_REFERRERS + 1 }, () => ({})) };
  await expect(findReferrers(w.repo, w.subject.digest as Digest, w.context)).rejects.toThrow(
    `lists more than ${MAX_REFERRERS} referrers`,
  );
  expect(w.lines.filter((line) => line.startsWith('warning'))).toEqual([]);
});

test('with the API: found there, never through a fallback tag', async () => {
  const w = world({ api: true });
  const signature = w.registry.pushReferrer('org/app', w.subject, { artifactType: SIGNATURE, text: 'sig' });
  const sbom = w.registry.pushReferrer('org/app', w.subject, { artifactType: SBOM, text: 'sbom' });
  const found = await findReferrers(w.repo, w.subject.digest as Digest, w.context);
  expect(found.via).toBe('api');
  expect(found.descriptors).toEqual(
    [referrerEntry(signature), referrerEntry(sbom)].sort((a, b) => (a.digest < b.digest ? -1 : 1)),
  );
  expect(w.registry.requests('org/app', `manifests/${tagOf(w.subject)}`)).toEqual([]);
});

test('without the API: stored by digest first, then listed in a new fallback tag', async () => {
  const w = world({ api: false });
  const signature = referrer(w.registry, w.subject, SIGNATURE, 'sig');
  const stored = await storeAndList(w.repo, [asManifest(signature)], w.context);
  expect(stored).toEqual([{ descriptor: referrerEntry(signature), subject: w.subject.digest, via: 'tag' }]);
  expect(w.registry.has('org/app', signature.digest)).toBe(true);
  expect(w.registry.manifest('org/app', tagOf(w.subject))).toEqual({
    schemaVersion: 2,
    mediaType: TYPES.ociIndex,
    manifests: [referrerEntry(signature)],
  });
  const puts = w.registry.requests('org/app', 'manifests/', 'PUT').map((r) => r.path.split('/').at(-1));
  expect(puts).toEqual([signature.digest, tagOf(w.subject)]);
});

test('without the API: referrers already in the fallback tag are kept, the list ordered by digest', async () => {
  const w = world({ api: false });
  // Another tool's entry, listed before this run.
  const theirs = w.registry.pushReferrer('org/app', w.subject, { artifactType: SBOM, text: 'their sbom' });
  w.registry.pushFallbackTag('org/app', w.subject.digest, [referrerEntry(theirs)]);
  const ours = [
    referrer(w.registry, w.subject, SIGNATURE, 'sig one'),
    referrer(w.registry, w.subject, SIGNATURE, 'sig two'),
  ];
  await storeAndList(w.repo, ours.map(asManifest), w.context);
  const listed = w.registry.manifest('org/app', tagOf(w.subject))?.['manifests'] as Entry[];
  const expected = [theirs, ...ours].map(referrerEntry).sort((a, b) => (a.digest < b.digest ? -1 : 1));
  expect(listed).toEqual(expected);
  // One write of the tag for both of ours.
  expect(w.registry.requests('org/app', `manifests/${tagOf(w.subject)}`, 'PUT')).toHaveLength(1);

  // Stored again: every referrer is listed already, so the tag is not written again.
  await storeAndList(w.repo, ours.map(asManifest), w.context);
  expect(w.registry.requests('org/app', `manifests/${tagOf(w.subject)}`, 'PUT')).toHaveLength(1);
});

test("without the API: others' entries of any type and the index's annotations are kept exactly as written", async () => {
  const w = world({ api: false });
  const ours = referrer(w.registry, w.subject, SIGNATURE, 'our sig');
  // As ORAS lists an artifact manifest, and an entry with fields this client does not read.
  const oras = w.registry.pushManifest('org/app', {
    mediaType: 'application/vnd.oci.artifact.manifest.v1+json',
    artifactType: SBOM,
    blobs: [],
    subject: { mediaType: w.subject.mediaType, digest: w.subject.digest, size: w.subject.size },
  });
  const artifact = { ...descriptorOf(oras), artifactType: SBOM };
  const theirs = w.registry.pushReferrer('org/app', w.subject, { artifactType: SBOM, text: 'their sbom' });
  const rich = {
    ...descriptorOf(theirs),
    data: Buffer.from(theirs.bytes).toString('base64'),
    urls: ['https://example.test/x'],
    annotations: { 'org.example.count': 3, 'org.example.name': 'x' },
  };
  const annotations = { 'org.example.owner': 'another tool' };
  // The tag as another tool wrote it, annotations included.
  w.registry.pushFallbackTag('org/app', w.subject.digest, [rich, artifact] as Entry[], annotations);

  await storeAndList(w.repo, [asManifest(ours)], w.context);

  expect(w.registry.manifest('org/app', tagOf(w.subject))).toEqual({
    schemaVersion: 2,
    mediaType: TYPES.ociIndex,
    manifests: [artifact, referrerEntry(ours), rich].sort((a, b) => (a.digest < b.digest ? -1 : 1)),
    annotations,
  });
});

test('without the API: another writer replacing the fallback tag meanwhile is merged with, not overwritten', async () => {
  const w = world({ api: false });
  const ours = referrer(w.registry, w.subject, SIGNATURE, 'our sig');
  const theirs = w.registry.pushReferrer('org/app', w.subject, { artifactType: SBOM, text: 'their sbom' });
  let raced = false;
  w.registry.afterManifestPut = (repo, reference) => {
    if (raced || reference !== tagOf(w.subject)) return;
    raced = true;
    // Another tool read the tag before our write and lands its own list right after it, without ours.
    w.registry.pushFallbackTag(repo, w.subject.digest, [referrerEntry(theirs)]);
  };
  await storeAndList(w.repo, [asManifest(ours)], w.context);
  const listed = w.registry.manifest('org/app', tagOf(w.subject))?.['manifests'] as Entry[];
  expect(listed.map((e) => e.digest).sort()).toEqual([ours.digest, theirs.digest].sort());
  expect(w.registry.requests('org/app', `manifests/${tagOf(w.subject)}`, 'PUT')).toHaveLength(2);
  expect(w.lines).toContainEqual(
    expect.stringMatching(/was rewritten by another writer meanwhile; merging again/),
  );
});

test('without the API: a malformed entry in the fallback tag is left out with a warning', async () => {
  const w = world({ api: false });
  const theirs = w.registry.pushReferrer('org/app', w.subject, { artifactType: SBOM, text: 'their sbom' });
  w.registry.pushFallbackTag('org/app', w.subject.digest, [
    referrerEntry(theirs),
    { mediaType: 'not a type', digest: 'sha256:nothex', size: -1 },
  ]);
  const found = await findReferrers(w.repo, w.subject.digest as Digest, w.context);
  expect(found.descriptors).toEqual([referrerEntry(theirs)]);
  expect(w.lines).toContainEqual(
    expect.stringMatching(/^warning .*lists an entry that is not an image manifest/),
  );
});

test('a fallback tag holding an image, not an index, is refused with the fix', async () => {
  const w = world({ api: false });
  const image = w.registry.pushImage('org/app', { platform: 'linux/arm64' });
  // Someone tagged an image with the subject's fallback tag name.
  w.registry.pushFallbackTag('org/app', w.subject.digest, []);
  const tag = tagOf(w.subject);
  await w.client.putManifest(w.repo, tag, image.bytes, image.mediaType);
  await expect(findReferrers(w.repo, w.subject.digest as Digest, w.context)).rejects.toThrow(
    `reg.test/org/app:${tag} is the referrers fallback tag of ${w.subject.digest} but holds a ${TYPES.ociManifest}`,
  );
});

test('with the API: stored by digest only; the OCI-Subject answer means no fallback tag', async () => {
  const w = world({ api: true });
  const signature = referrer(w.registry, w.subject, SIGNATURE, 'sig');
  const stored = await storeAndList(w.repo, [asManifest(signature)], w.context);
  expect(stored.map((s) => s.via)).toEqual(['api']);
  expect(w.registry.tagged('org/app', tagOf(w.subject))).toBeUndefined();
  const found = await findReferrers(w.repo, w.subject.digest as Digest, w.context);
  expect(found).toEqual({ via: 'api', descriptors: [referrerEntry(signature)] });
});

test('without the API: a writer whose stale list lands after our read-back is caught by the settle re-read', async () => {
  const w = world({ api: false });
  const ours = referrer(w.registry, w.subject, SIGNATURE, 'our sig');
  const theirs = w.registry.pushReferrer('org/app', w.subject, { artifactType: SBOM, text: 'their sbom' });
  let raced = false;
  const clock = {
    ...w.clock,
    sleep: async (ms: number) => {
      if (ms === SETTLE_MS && !raced) {
        raced = true;
        // The other tool read the tag before our write and writes its list while we settle.
        w.registry.pushFallbackTag('org/app', w.subject.digest, [referrerEntry(theirs)]);
      }
      return w.clock.sleep(ms);
    },
  };
  await storeAndList(w.repo, [asManifest(ours)], { ...w.context, clock });
  expect(raced).toBe(true);
  const listed = w.registry.manifest('org/app', tagOf(w.subject))?.['manifests'] as Entry[];
  expect(listed.map((e) => e.digest).sort()).toEqual([ours.digest, theirs.digest].sort());
  expect(w.registry.requests('org/app', `manifests/${tagOf(w.subject)}`, 'PUT')).toHaveLength(2);
});

test('a list of more than MAX_REFERRERS referrers is refused, not followed', async () => {
  const w = world({ api: false });
  const many = Array.from({ length: MAX_REFERRERS + 1 }, (_, i) => ({
    mediaType: TYPES.ociManifest,
    digest: `sha256:${i.toString(16).padStart(64, '0')}` as const,
    size: 2,
    artifactType: SIGNATURE,
  }));
  w.registry.pushFallbackTag('org/app', w.subject.digest, many);
  await expect(findReferrers(w.repo, w.subject.digest as Digest, w.context)).rejects.toThrow(
    `lists more than ${MAX_REFERRERS} referrers; refusing to handle that many`,
  );
});
