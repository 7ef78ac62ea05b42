import { afterEach, expect, test } from 'vitest';
import { ConsistencyWait } from '../src/consistency.js';
import { type Platform, parsePlatform } from '../src/platform.js';
import type { Digest } from '../src/registry/digest.js';
import { pinSources, resolveSources } from '../src/resolve.js';
import type { SourceEntry } from '../src/sources.js';
import {
  descriptor,
  type Entry,
  entry,
  type ScriptedRegistry,
  scriptedWorld,
} from './helpers/scripted-registry.js';

/** resolveSources against a scripted registry: what each source contributes, and what is refused. */

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function world() {
  const w = scriptedWorld();
  closers.push(w.close);
  const image = w.registry.repo('org/app');
  const context = { ...w.context, wait: new ConsistencyWait(w.context), image, readFromSources: false };
  /** A source entry for a digest in the image, or in `repo` of the same registry. */
  const source = (pushed: Entry, repo?: string): SourceEntry => ({
    text: repo ? `reg.test/${repo}@${pushed.digest}` : pushed.digest,
    repository: w.registry.repo(repo ?? 'org/app'),
    digest: pushed.digest as Digest,
  });
  const resolve = (
    sources: SourceEntry[],
    options: {
      attestations?: 'keep' | 'drop';
      platforms?: Platform[];
      readFromSources?: boolean;
      labels?: boolean;
    } = {},
  ) =>
    resolveSources(
      sources,
      {
        attestations: options.attestations ?? 'keep',
        platforms: options.platforms,
        labels: options.labels ?? false,
      },
      { ...context, readFromSources: options.readFromSources ?? false },
    );
  return { ...w, source, resolve };
}

const platforms = (...keys: string[]) => keys.map((key) => parsePlatform(key, 'test'));

/** An index with one image and the BuildKit attestation for it. */
function attestedIndex(registry: ScriptedRegistry, repo = 'org/app') {
  const image = registry.pushImage(repo, { platform: 'linux/amd64' });
  const attestation = registry.pushAttestation(repo, image);
  const index = registry.pushIndex(repo, [entry(image, 'linux/amd64'), attestation]);
  return { image, attestation, index };
}

test('two image manifests become two platform images, ordered by platform, platforms from their configs', async () => {
  const w = world();
  const arm64 = w.registry.pushImage('org/app', { platform: 'linux/arm64/v8' });
  const amd64 = w.registry.pushImage('org/app', { platform: 'linux/amd64' });

  const images = await w.resolve([w.source(arm64), w.source(amd64)]);

  expect(images).toEqual([
    { descriptor: entry(amd64, 'linux/amd64'), attestations: [], source: amd64.digest, labels: {} },
    { descriptor: entry(arm64, 'linux/arm64/v8'), attestations: [], source: arm64.digest, labels: {} },
  ]);
});

/** An image config with labels, as BuildKit writes them. */
function labelled(platform: string, labels: Record<string, unknown>) {
  const [os, architecture] = platform.split('/');
  return { os, architecture, config: { Labels: labels }, rootfs: { type: 'layers' } };
}

test('an image source carries the index labels of its config, and no others', async () => {
  const w = world();
  const image = w.registry.pushImage('org/app', {
    config: labelled('linux/amd64', {
      'org.opencontainers.image.description': ' An app ',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.revision': 'abc',
      'org.opencontainers.image.title': '',
      'org.opencontainers.image.vendor': 'line\nbreak\u001b',
      'org.opencontainers.image.url': 42,
      maintainer: 'someone',
    }),
  });

  const [resolved] = await w.resolve([w.source(image)]);

  expect(resolved?.labels).toEqual({
    'org.opencontainers.image.description': 'An app',
    'org.opencontainers.image.licenses': 'MIT',
  });
});

test('with labels asked for, the images of an index source are read with their configs; attestations are not', async () => {
  const w = world();
  const image = w.registry.pushImage('org/app', {
    config: labelled('linux/amd64', { 'org.opencontainers.image.source': 'https://github.com/org/app' }),
  });
  const attestation = w.registry.pushAttestation('org/app', image);
  const index = w.registry.pushIndex('org/app', [entry(image, 'linux/amd64'), attestation]);

  const [withLabels] = await w.resolve([w.source(index)], { labels: true });
  const [without] = await w.resolve([w.source(index)]);

  expect(withLabels?.labels).toEqual({ 'org.opencontainers.image.source': 'https://github.com/org/app' });
  expect(withLabels?.attestations).toEqual([attestation]);
  expect(without?.labels).toBeUndefined();
});

test.each([
  { attestations: 'keep', kept: 1 },
  { attestations: 'drop', kept: 0 },
] as const)(
  'an index with an image and its attestation, attestations: $attestations',
  async ({ attestations, kept }) => {
    const w = world();
    const { image, attestation, index } = attestedIndex(w.registry);

    const images = await w.resolve([w.source(index)], { attestations });

    expect(images).toEqual([
      {
        descriptor: entry(image, 'linux/amd64'),
        attestations: [attestation].slice(0, kept),
        source: index.digest,
      },
    ]);
  },
);

test('an artifact attestation (artifactType and subject, no Docker annotations) follows its subject', async () => {
  const w = world();
  const amd64 = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  const arm64 = w.registry.pushImage('org/app', { platform: 'linux/arm64' });
  const artifact = w.registry.pushArtifactAttestation('org/app', arm64);
  const index = w.registry.pushIndex('org/app', [
    artifact,
    entry(amd64, 'linux/amd64'),
    entry(arm64, 'linux/arm64'),
  ]);

  const images = await w.resolve([w.source(index)]);

  expect(images.map((i) => [i.descriptor.digest, i.attestations])).toEqual([
    [amd64.digest, []],
    [arm64.digest, [artifact]],
  ]);
});

test('an index child whose size differs from what the registry serves is refused, naming both sizes', async () => {
  const w = world();
  const image = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  const index = w.registry.pushIndex('org/app', [{ ...entry(image, 'linux/amd64'), size: image.size + 7 }]);

  await expect(w.resolve([w.source(index)])).rejects.toThrow(
    `lists ${image.digest} as ${image.mediaType}, ${image.size + 7} bytes, but reg.test/org/app serves it as ` +
      `${image.mediaType}, ${image.size} bytes`,
  );
});

test.each([
  {
    name: 'a config with a variant that breaks the line',
    sources: (r: ScriptedRegistry) => [
      r.pushImage('org/app', { config: { os: 'linux', architecture: 'arm', variant: 'v7\n::x' } }),
    ],
    message: 'invalid platform',
  },
  {
    name: 'two sources for one platform',
    sources: (r: ScriptedRegistry) => [
      r.pushImage('org/app', { platform: 'linux/amd64', layers: ['one'] }),
      r.pushImage('org/app', { platform: 'linux/amd64', layers: ['two'] }),
    ],
    message: 'two images for linux/amd64',
  },
  {
    name: 'a nested index',
    sources: (r: ScriptedRegistry) => {
      const inner = r.pushIndex('org/app', [
        entry(r.pushImage('org/app', { platform: 'linux/amd64' }), 'linux/amd64'),
      ]);
      return [r.pushIndex('org/app', [descriptor(inner)])];
    },
    message: 'nests another index',
  },
])('$name is refused: $message', async ({ sources, message }) => {
  const w = world();

  await expect(w.resolve(sources(w.registry).map((pushed) => w.source(pushed)))).rejects.toThrow(message);
});

test.each([
  { expected: 'linux/arm', built: ['linux/arm/v7'], error: '' },
  { expected: 'linux/amd64,linux/arm64', built: ['linux/amd64'], error: 'missing linux/arm64' },
  { expected: 'linux/amd64', built: ['linux/amd64', 'linux/s390x'], error: 'not expected linux/s390x' },
])('platforms $expected with images $built: "$error"', async ({ expected, built, error }) => {
  const w = world();
  const sources = built.map((platform) => w.source(w.registry.pushImage('org/app', { platform })));

  const resolved = w.resolve(sources, { platforms: platforms(...expected.split(',')) });

  if (error) await expect(resolved).rejects.toThrow(error);
  else
    expect((await resolved).map((i) => i.descriptor.platform)).toEqual([
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
});

test.each([
  { readFromSources: true, readFrom: 'org/build', notFrom: 'org/app' },
  { readFromSources: false, readFrom: 'org/app', notFrom: 'org/build' },
])(
  'readFromSources $readFromSources reads a foreign source from $readFrom',
  async ({ readFromSources, readFrom, notFrom }) => {
    const w = world();
    // The same content in both repositories: only the requests tell where it was read.
    const { index } = attestedIndex(w.registry, 'org/build');
    attestedIndex(w.registry, 'org/app');

    const images = await w.resolve([w.source(index, 'org/build')], { readFromSources });

    expect(images.map((i) => i.attestations.length)).toEqual([1]);
    expect(w.registry.requests(readFrom).length).toBeGreaterThan(0);
    expect(w.registry.requests(notFrom)).toEqual([]);
  },
);

test('sources still missing at the deadline are named together, every one of them', async () => {
  const w = world();
  const served = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  const missing = ['a', 'b'].map((hex) => {
    const digest = `sha256:${hex.repeat(64)}` as Digest;
    return { text: digest, repository: w.registry.repo('org/app'), digest };
  });

  const error = await w.resolve([w.source(served), ...missing]).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(
    new RegExp(
      `^sources: 2 sources are still not served by reg\\.test/org/app after wait-timeout: ` +
        `"${missing[0]?.text}", "${missing[1]?.text}" \\(HEAD .*404.*\\)\\. Check that the builds pushed these ` +
        'digests to reg\\.test/org/app, or raise wait-timeout',
    ),
  );
  // Both were waited for until the deadline, not one after the other.
  expect(w.clock.now()).toBeGreaterThanOrEqual(w.context.deadline);
  expect(w.clock.now()).toBeLessThan(w.context.deadline + 10_000);
});

test('one source missing keeps its own message', async () => {
  const w = world();
  const missing = `sha256:${'c'.repeat(64)}` as Digest;
  const one = { text: missing, repository: w.registry.repo('org/app'), digest: missing };
  await expect(w.resolve([one])).rejects.toThrow(
    `sources: "${missing}": reg.test/org/app still does not serve ${missing} after wait-timeout (`,
  );
});

test('a source tag not there yet is waited for, and the first waiting line names the limit', async () => {
  const w = world();
  const image = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  w.registry.tag('org/app', 'testing', image);
  w.registry.hide('testing', 2);
  const tagged = { text: 'reg.test/org/app:testing', repository: w.registry.repo('org/app'), tag: 'testing' };

  const [pinned] = await pinSources([tagged], { ...w.context, wait: new ConsistencyWait(w.context) });

  expect(pinned?.digest).toBe(image.digest);
  expect(w.lines).toContain(
    'info reg.test/org/app:testing is not served yet; waiting for it up to 60 s (wait-timeout; set it, e.g. to 5m, to ' +
      'wait longer)',
  );
});
