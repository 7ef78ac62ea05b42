import { afterEach, describe, expect, test } from 'vitest';
import { ConsistencyWait } from '../src/consistency.js';
import type { Digest } from '../src/registry/digest.js';
import { listInFallbackTags } from '../src/registry/referrers.js';
import type { SourceEntry } from '../src/sources.js';
import { bringIn, referrerBudget } from '../src/transfer.js';
import {
  descriptor,
  type Entry,
  entry,
  type Logged,
  referrerEntry,
  type ScriptedRegistry,
  scriptedWorld,
  sha256,
  TYPES,
} from './helpers/scripted-registry.js';

/** bringIn against scripted registries: what moves, how, and in which order. */

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function world(hosts = ['reg.test']) {
  const w = scriptedWorld(hosts);
  closers.push(w.close);
  const target = w.registry;
  const image = target.repo('org/app');
  const context = { ...w.context, wait: new ConsistencyWait(w.context) };
  const source = (registry: ScriptedRegistry, pushed: Entry): SourceEntry => ({
    text: `${registry.host}/org/build@${pushed.digest}`,
    repository: registry.repo('org/build'),
    digest: pushed.digest as Digest,
  });
  const bring = (sources: SourceEntry[]) => bringIn(sources, image, context);
  return { ...w, target, source, bring, transfer: context };
}

const query = (r: Logged) => new URL(r.path, 'https://x').searchParams;
const digestIn = (r: Logged) => r.path.split('?')[0]?.split('/').at(-1);

/** Two images sharing a base layer, with an attestation, in an index. */
function pushIndex(registry: ScriptedRegistry) {
  const amd64 = registry.pushImage('org/build', { platform: 'linux/amd64', layers: ['base', 'amd64 app'] });
  const arm64 = registry.pushImage('org/build', { platform: 'linux/arm64', layers: ['base', 'arm64 app'] });
  const attestation = registry.pushAttestation('org/build', amd64);
  const index = registry.pushIndex('org/build', [
    entry(amd64, 'linux/amd64'),
    entry(arm64, 'linux/arm64'),
    attestation,
  ]);
  return { leaves: [amd64, arm64, attestation], index };
}

test('on one registry, blobs are mounted once each, then the leaves are PUT, then the index', async () => {
  const w = world();
  const { leaves, index } = pushIndex(w.target);

  await w.bring([w.source(w.target, index)]);

  const posts = w.target.requests('org/app', 'blobs/uploads/', 'POST');
  expect(posts.every((r) => r.status === 201 && query(r).get('from') === 'org/build')).toBe(true);
  const mounted = posts.map((r) => query(r).get('mount'));
  // 3 configs, 2 layers of each image with "base" shared, 1 provenance layer: 7 distinct blobs.
  expect(new Set(mounted).size).toBe(7);
  expect(mounted).toHaveLength(7);
  expect(w.registry.log.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'))).toEqual([]);
  const puts = w.target.requests('org/app', 'manifests/', 'PUT');
  expect(puts.map(digestIn).slice(0, 3).sort()).toEqual(leaves.map((l) => l.digest).sort());
  expect(puts.map(digestIn).slice(3)).toEqual([index.digest]);
  expect(puts.every((r) => r.status === 201)).toBe(true);
  expect(w.lines).toContain('info blobs: 7 mounted, 0 copied, 0 already there');
});

test('a blob shared by two sources moves once', async () => {
  const w = world();
  const one = w.target.pushImage('org/build', { platform: 'linux/amd64', layers: ['base', 'one'] });
  const two = w.target.pushImage('org/build', { platform: 'linux/arm64', layers: ['base', 'two'] });

  await w.bring([w.source(w.target, one), w.source(w.target, two)]);

  const mounted = w.target.requests('org/app', 'blobs/uploads/', 'POST').map((r) => query(r).get('mount'));
  expect(mounted).toHaveLength(5);
  expect(new Set(mounted).size).toBe(5);
  expect(w.target.has('org/app', one.digest) && w.target.has('org/app', two.digest)).toBe(true);
});

test('across registries, blobs are streamed from the source unless the target has them', async () => {
  const w = world(['reg.test', 'src.test']);
  const from = w.registries[1] as ScriptedRegistry;
  const image = from.pushImage('org/build', { platform: 'linux/amd64', layers: ['base', 'app'] });
  const base = w.target.pushBlob('org/app', Buffer.from('base'));

  await w.bring([w.source(from, image)]);

  expect(w.target.requests('org/app', `blobs/${base.digest}`, 'HEAD').map((r) => r.status)).toEqual([200]);
  const copied = from.requests('org/build', 'blobs/', 'GET').map(digestIn);
  expect(copied).toHaveLength(2);
  expect(copied).not.toContain(base.digest);
  const uploads = w.target.requests('org/app', 'blobs/uploads/');
  expect(uploads.map((r) => `${r.method} ${r.status}`)).toEqual([
    'POST 202',
    'POST 202',
    'PUT 201',
    'PUT 201',
  ]);
  expect(uploads.some((r) => query(r).has('mount'))).toBe(false);
  expect(uploads.filter((r) => r.method === 'PUT').map((r) => query(r).get('digest'))).toEqual(
    expect.arrayContaining(copied),
  );
  expect(w.target.has('org/app', image.digest)).toBe(true);
  expect(w.lines).toContain('info blobs: 0 mounted, 2 copied, 1 already there');
});

test('a mount answered 202 is finished through its Location, never cancelled', async () => {
  const w = world();
  w.target.openUploadOnMount = true;
  const image = w.target.pushImage('org/build', { platform: 'linux/amd64', layers: ['app'] });

  await w.bring([w.source(w.target, image)]);

  const uploads = w.target.requests('org/app', 'blobs/uploads/');
  // Each blob: one mount POST (202), then a PUT to the Location it gave; no upload of its own, no DELETE.
  expect(uploads.map((r) => `${r.method} ${r.status}`).sort()).toEqual([
    'POST 202',
    'POST 202',
    'PUT 201',
    'PUT 201',
  ]);
  expect(uploads.filter((r) => r.method === 'POST').every((r) => query(r).has('mount'))).toBe(true);
  expect(uploads.filter((r) => r.method === 'PUT').every((r) => query(r).get('_state') === 'opaque')).toBe(
    true,
  );
  expect(w.target.log.filter((r) => r.method === 'DELETE')).toEqual([]);
  expect(w.target.has('org/app', image.digest)).toBe(true);
});

test('a non-distributable layer (with urls) is not copied', async () => {
  const w = world();
  // Not in the registry at all: clients fetch it from its URL.
  const bytes = Buffer.from('windows base layer');
  const foreign = {
    mediaType: TYPES.foreignLayer,
    digest: sha256(bytes),
    size: bytes.length,
    urls: ['https://mcr.example/base'],
  };
  const image = w.target.pushImage('org/build', { platform: 'windows/amd64', foreign: [foreign] });

  await w.bring([w.source(w.target, image)]);

  const mounted = w.target.requests('org/app', 'blobs/uploads/').map((r) => query(r).get('mount'));
  expect(mounted).toHaveLength(2);
  expect(w.target.log.filter((r) => r.path.includes(foreign.digest))).toEqual([]);
  expect(w.target.has('org/app', image.digest)).toBe(true);
});

test('a foreign index nesting another index is refused before anything is written', async () => {
  const w = world();
  const inner = w.target.pushIndex('org/build', [
    entry(w.target.pushImage('org/build', { platform: 'linux/arm64' }), 'linux/arm64'),
  ]);
  const outer = w.target.pushIndex('org/build', [descriptor(inner)]);

  await expect(w.bring([w.source(w.target, outer)])).rejects.toThrow(`nests another index (${inner.digest})`);
  await settled(w.target);

  expect(w.target.log.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
});

// The nested index is refused by the media type its parent gives it, before any sibling is copied: found only
// when its own manifest was read, the siblings' blobs were already mounted and their manifests PUT after the error.
test('a foreign index nesting another index beside an image writes nothing, not even the image', async () => {
  const w = world();
  const inner = w.target.pushIndex('org/build', [
    entry(w.target.pushImage('org/build', { platform: 'linux/arm64' }), 'linux/arm64'),
  ]);
  const sibling = w.target.pushImage('org/build', { platform: 'linux/amd64' });
  const outer = w.target.pushIndex('org/build', [entry(sibling, 'linux/amd64'), descriptor(inner)]);
  const writes = () => w.target.log.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');

  await expect(w.bring([w.source(w.target, outer)])).rejects.toThrow(`nests another index (${inner.digest})`);
  const whenRefused = writes();
  await settled(w.target);

  expect({ whenRefused, afterwards: writes() }).toEqual({ whenRefused: [], afterwards: [] });
});

/** Lets work the rejection left running finish: until the registry saw no request for a while. */
async function settled(registry: ScriptedRegistry): Promise<void> {
  for (let quiet = 0, seen = -1; quiet < 20; quiet = registry.log.length === seen ? quiet + 1 : 0) {
    seen = registry.log.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('referrers brought along', () => {
  const SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

  test('from a registry with the API into one without: stored by digest with the blobs; the fallback tags written only when listed', async () => {
    const w = world(['reg.test', 'src.test']);
    const from = w.registries[1] as ScriptedRegistry;
    from.referrersApi = true;
    const image = from.pushImage('org/build', { platform: 'linux/amd64', layers: ['app'] });
    const signature = from.pushReferrer('org/build', image, { artifactType: SIGNATURE, text: 'sig' });
    const countersigned = from.pushReferrer('org/build', signature, {
      artifactType: SIGNATURE,
      text: 'sig of sig',
    });
    const stored = await bringIn([w.source(from, image)], w.target.repo('org/app'), w.transfer, {
      indexes: true,
      referrers: true,
    });

    expect(stored.map((s) => s.descriptor.digest)).toEqual([signature.digest, countersigned.digest].sort());
    expect(stored.every((s) => s.via === 'tag')).toBe(true);
    // bringIn writes no tag: the fallback tags wait until the run has decided to write (publish).
    expect(w.target.requests('org/app', 'manifests/sha256-', 'PUT')).toEqual([]);
    expect(await listInFallbackTags(w.target.repo('org/app'), stored, w.context)).toEqual([]);
    expect(w.target.manifest('org/app', `sha256-${image.digest.slice(7)}`)?.['manifests']).toEqual([
      referrerEntry(signature),
    ]);
    // A signature of the signature too, found under its own subject.
    expect(w.target.manifest('org/app', `sha256-${signature.digest.slice(7)}`)?.['manifests']).toEqual([
      referrerEntry(countersigned),
    ]);
    expect(w.target.has('org/app', countersigned.digest)).toBe(true);
    expect(from.requests('org/build', 'referrers/', 'GET').every((r) => r.status === 200)).toBe(true);
    expect(w.lines).toContainEqual(expect.stringMatching(/referrers: 2 brought$/));
  });

  test('a fallback tag listing a referrer under itself, or a manifest with another subject, is not followed: the copy ends', async () => {
    const w = world(['reg.test', 'src.test']);
    const from = w.registries[1] as ScriptedRegistry;
    const image = from.pushImage('org/build', { platform: 'linux/amd64', layers: ['app'] });
    const signature = from.pushReferrer('org/build', image, { artifactType: SIGNATURE, text: 'sig' });
    const other = from.pushImage('org/build', { platform: 'linux/arm64', layers: ['other'] });
    const elsewhere = from.pushReferrer('org/build', other, { artifactType: SIGNATURE, text: 'not ours' });
    from.pushFallbackTag('org/build', image.digest, [referrerEntry(signature), referrerEntry(elsewhere)]);
    // The signature's own fallback tag lists the signature again: following it would wait on itself.
    from.pushFallbackTag('org/build', signature.digest, [referrerEntry(signature)]);

    const stored = await bringIn([w.source(from, image)], w.target.repo('org/app'), w.transfer, {
      indexes: true,
      referrers: true,
    });

    expect(stored.map((s) => s.descriptor.digest)).toEqual([signature.digest]);
    expect(w.target.has('org/app', elsewhere.digest)).toBe(false);
    expect(w.target.tagged('org/app', `sha256-${signature.digest.slice(7)}`)).toBeUndefined();
    expect(w.lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^warning .*${elsewhere.digest} is listed as a referrer of ${image.digest} but names ${other.digest}`,
        ),
      ),
    );
    expect(w.lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^warning .*${signature.digest} is listed as a referrer of ${signature.digest} but names ${image.digest}`,
        ),
      ),
    );
  });

  test('a referrer listed with a smaller size than it has is refused: the budget counts what is listed', async () => {
    const w = world(['reg.test', 'src.test']);
    const from = w.registries[1] as ScriptedRegistry;
    const image = from.pushImage('org/build', { platform: 'linux/amd64', layers: ['app'] });
    const signature = from.pushReferrer('org/build', image, { artifactType: SIGNATURE, text: 'sig' });
    from.pushFallbackTag('org/build', image.digest, [{ ...referrerEntry(signature), size: 1 }]);

    await expect(
      bringIn([w.source(from, image)], w.target.repo('org/app'), w.transfer, {
        indexes: true,
        referrers: true,
      }),
    ).rejects.toThrow(`referrer ${signature.digest} is ${signature.size} bytes, listed as 1`);
    expect(w.target.has('org/app', signature.digest)).toBe(false);
  });

  test("a merge brings the referrers of an index source's children, not of the index (it is not published)", async () => {
    const w = world(['reg.test', 'src.test']);
    const from = w.registries[1] as ScriptedRegistry;
    const image = from.pushImage('org/build', { platform: 'linux/amd64', layers: ['app'] });
    const index = from.pushIndex('org/build', [entry(image, 'linux/amd64')]);
    const ofImage = from.pushReferrer('org/build', image, { artifactType: SIGNATURE, text: 'image sig' });
    const ofIndex = from.pushReferrer('org/build', index, { artifactType: SIGNATURE, text: 'index sig' });
    from.pushFallbackTag('org/build', image.digest, [referrerEntry(ofImage)]);
    from.pushFallbackTag('org/build', index.digest, [referrerEntry(ofIndex)]);

    const stored = await bringIn([w.source(from, index)], w.target.repo('org/app'), w.transfer, {
      indexes: true,
      referrers: true,
      indexReferrers: false,
    });

    expect(stored.map((s) => s.descriptor.digest)).toEqual([ofImage.digest]);
    expect(from.requests('org/build', `manifests/sha256-${index.digest.slice(7)}`)).toEqual([]);
    expect(w.target.has('org/app', index.digest)).toBe(true);
  });

  test('the referrers followed are bounded for the whole run, across every bringIn sharing its budget', async () => {
    const w = world(['reg.test', 'src.test']);
    const from = w.registries[1] as ScriptedRegistry;
    // A budget of 1 KiB stands for the run's 64 MiB: each signature manifest here is over half of it.
    const budget = referrerBudget(1024);
    const bringSigned = async (repo: string) => {
      const image = from.pushImage(repo, { platform: 'linux/amd64', layers: [repo] });
      const signature = from.pushReferrer(repo, image, { artifactType: SIGNATURE, text: `sig ${repo}` });
      from.pushFallbackTag(repo, image.digest, [referrerEntry(signature)]);
      const source = { text: repo, repository: from.repo(repo), digest: image.digest as Digest };
      return bringIn([source], w.target.repo('org/app'), w.transfer, {
        indexes: true,
        referrers: true,
        budget,
      });
    };

    expect(await bringSigned('one/build')).toHaveLength(1);
    await expect(bringSigned('two/build')).rejects.toThrow(
      'referrer manifests of more than 0.0009765625 MiB in this run (under sha256:',
    );
    expect(budget.digests.size).toBe(2);
  });

  test('without referrers: copy, none is looked up', async () => {
    const w = world(['reg.test', 'src.test']);
    const from = w.registries[1] as ScriptedRegistry;
    const image = from.pushImage('org/build', { platform: 'linux/amd64', layers: ['app'] });
    from.pushReferrer('org/build', image, { artifactType: SIGNATURE, text: 'sig' });
    await w.bring([w.source(from, image)]);
    expect(from.requests('org/build', 'referrers/')).toEqual([]);
    expect(w.target.tagged('org/app', `sha256-${image.digest.slice(7)}`)).toBeUndefined();
  });
});

test('foreign sources still missing at the deadline are named together; one alone keeps its own message', async () => {
  const w = world();
  const served = w.target.pushImage('org/build', { platform: 'linux/amd64' });
  const missing = ['a', 'b'].map((hex) => ({ digest: `sha256:${hex.repeat(64)}` }) as Entry);
  const [a, b] = missing.map((entry) => w.source(w.target, entry));

  await expect(w.bring([w.source(w.target, served), a as SourceEntry, b as SourceEntry])).rejects.toThrow(
    new RegExp(
      `^sources: 2 sources are still not served by reg\\.test/org/build after wait-timeout: "${a?.text}", ` +
        `"${b?.text}" \\(.*404.*\\)\\. Check that the builds pushed these digests`,
    ),
  );

  const v = world();
  await expect(v.bring([v.source(v.target, missing[0] as Entry)])).rejects.toThrow(
    `sources: "${a?.text}": reg.test/org/build still does not serve it after wait-timeout (`,
  );
});
