import { describe, expect, test } from 'vitest';
import { type AssembleOptions, assemble } from '../src/assemble.js';
import { indexJson } from '../src/canonical-json.js';
import { type Platform, parsePlatform, platformKey } from '../src/platform.js';
import { indexEntries, type PlatformImage } from '../src/platform-images.js';
import type { Descriptor } from '../src/registry/descriptor.js';
import { type Digest, digestOf } from '../src/registry/digest.js';
import { mulberry32 } from './helpers/chaos.js';

const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const AUTO: AssembleOptions = { mediaType: 'auto', annotations: {} };
const OCI: AssembleOptions = { mediaType: 'oci', annotations: {} };
const DOCKER: AssembleOptions = { mediaType: 'docker', annotations: {} };

/** A readable fake digest: the hex digit repeated. */
function dg(hex: string): Digest {
  return `sha256:${hex.repeat(64 / hex.length)}` as Digest;
}

/** A stable digest per name, for fixtures too many to spell out. */
function named(name: string): Digest {
  return digestOf(new TextEncoder().encode(name));
}

function image(
  platform: string | Platform,
  digest: Digest,
  extra: Partial<Omit<PlatformImage['descriptor'], 'platform' | 'digest'>> = {},
  attestations: Descriptor[] = [],
): PlatformImage {
  const p = typeof platform === 'string' ? parsePlatform(platform, 'test') : platform;
  return {
    descriptor: { mediaType: DOCKER_MANIFEST, size: 1000, ...extra, digest, platform: p },
    attestations,
    source: `${platformKey(p)}=${digest}`,
  };
}

/** A buildx-style attestation manifest descriptor for the image `of`. */
function attestation(digest: Digest, of: Digest, size = 840): Descriptor {
  return {
    mediaType: OCI_MANIFEST,
    digest,
    size,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: {
      'vnd.docker.reference.digest': of,
      'vnd.docker.reference.type': 'attestation-manifest',
    },
  };
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function manifests(bytes: Uint8Array): Descriptor[] {
  return (JSON.parse(text(bytes)) as { manifests: Descriptor[] }).manifests;
}

describe('golden output', () => {
  test('two Docker v2 images make a Docker manifest list', () => {
    const result = assemble(
      [image('linux/arm64/v8', dg('b'), { size: 528 }), image('linux/amd64', dg('a'), { size: 527 })],
      AUTO,
    );
    expect(result.mediaType).toBe(DOCKER_LIST);
    expect(text(result.bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[' +
        `{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"${dg('a')}","size":527,` +
        '"platform":{"architecture":"amd64","os":"linux"}},' +
        `{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"${dg('b')}","size":528,` +
        '"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}',
    );
    expect(result.digest).toBe('sha256:b90a4838f123d92a0f0e1123d11b0b63d868fb00e4dbbbaf7a6269a5a65ec5bc');
    expect(result.digest).toBe(digestOf(result.bytes));
  });

  test('a buildx image with its attestation and index annotations make an OCI index', () => {
    const img = image('linux/amd64', dg('c'), { mediaType: OCI_MANIFEST, size: 1093 }, [
      attestation(dg('d'), dg('c'), 566),
    ]);
    const result = assemble([img], {
      mediaType: 'auto',
      // Deliberately unsorted: the bytes must sort them.
      annotations: {
        'org.opencontainers.image.source': 'https://github.com/example/app',
        'org.opencontainers.image.description': 'Example app',
        'org.opencontainers.image.licenses': 'MIT',
      },
    });
    expect(result.mediaType).toBe(OCI_INDEX);
    expect(text(result.bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[' +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${dg('c')}","size":1093,` +
        '"platform":{"architecture":"amd64","os":"linux"}},' +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${dg('d')}","size":566,` +
        '"platform":{"architecture":"unknown","os":"unknown"},' +
        `"annotations":{"vnd.docker.reference.digest":"${dg('c')}",` +
        '"vnd.docker.reference.type":"attestation-manifest"}}],' +
        '"annotations":{"org.opencontainers.image.description":"Example app",' +
        '"org.opencontainers.image.licenses":"MIT",' +
        '"org.opencontainers.image.source":"https://github.com/example/app"}}',
    );
    expect(result.digest).toBe('sha256:b78839da32b767c8ba7e7595d7a6f413245d436e46799c2bcff67d1baa3628a1');
    expect(result.digest).toBe(digestOf(result.bytes));
  });
});

describe('annotations at every level, and labels', () => {
  const amdOci = image('linux/amd64', dg('a'), { mediaType: OCI_MANIFEST, size: 500 }, [
    attestation(dg('e'), dg('a'), 566),
  ]);
  const armOci = image('linux/arm64', dg('b'), {
    mediaType: OCI_MANIFEST,
    size: 501,
    annotations: { 'org.opencontainers.image.title': 'from the build' },
  });

  test('golden: manifest-descriptor on every platform entry (not attestations), labels under index annotations', () => {
    const result = assemble([armOci, amdOci], {
      mediaType: 'auto',
      annotations: { 'org.opencontainers.image.description': 'given' },
      descriptorAnnotations: [
        { key: 'org.opencontainers.image.title', value: 'app' },
        { key: 'arch', value: 'arm', platform: parsePlatform('linux/arm64/v8', 'test') },
      ],
      labels: {
        'org.opencontainers.image.licenses': 'MIT',
        'org.opencontainers.image.description': 'from labels',
      },
    });
    expect(text(result.bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[' +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${dg('a')}","size":500,` +
        '"platform":{"architecture":"amd64","os":"linux"},' +
        '"annotations":{"org.opencontainers.image.title":"app"}},' +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${dg('e')}","size":566,` +
        '"platform":{"architecture":"unknown","os":"unknown"},' +
        `"annotations":{"vnd.docker.reference.digest":"${dg('a')}",` +
        '"vnd.docker.reference.type":"attestation-manifest"}},' +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${dg('b')}","size":501,` +
        '"platform":{"architecture":"arm64","os":"linux"},' +
        '"annotations":{"arch":"arm","org.opencontainers.image.title":"app"}}],' +
        '"annotations":{"org.opencontainers.image.description":"given",' +
        '"org.opencontainers.image.licenses":"MIT"}}',
    );
    expect(result.digest).toBe(digestOf(result.bytes));
  });

  test('a platform-qualified line wins over the one for every platform, whatever the order given', () => {
    const options = (order: 'general first' | 'qualified first'): AssembleOptions => {
      const general = { key: 'k', value: 'all' };
      const qualified = { key: 'k', value: 'arm', platform: parsePlatform('linux/arm64', 'test') };
      return {
        mediaType: 'auto',
        annotations: {},
        descriptorAnnotations: order === 'general first' ? [general, qualified] : [qualified, general],
      };
    };
    const a = assemble([amdOci, armOci], options('general first'));
    const b = assemble([amdOci, armOci], options('qualified first'));
    expect(a.digest).toBe(b.digest);
    expect(manifests(a.bytes).map((d) => d.annotations?.['k'])).toEqual(['all', undefined, 'arm']);
  });

  const amd = image('linux/amd64', dg('a'));
  const arm = image('linux/arm64', dg('b'));

  test('manifest-descriptor annotations make auto an OCI index; docker refuses them naming the lines', () => {
    const descriptorAnnotations = [{ key: 'org.b', value: '1' }];
    const auto = assemble([amd, arm], { mediaType: 'auto', annotations: {}, descriptorAnnotations });
    expect(auto.mediaType).toBe(OCI_INDEX);
    const run = () => assemble([amd, arm], { mediaType: 'docker', annotations: {}, descriptorAnnotations });
    expect(run).toThrow(
      'media-type: docker cannot carry annotations on its entries (annotations: manifest-descriptor:org.b)',
    );
    expect(run).toThrow('Use media-type: oci or auto');
  });

  test('labels never change the media type: a Docker manifest list goes without them', () => {
    const labels = { 'org.opencontainers.image.description': 'An app' };
    const list = assemble([amd, arm], { mediaType: 'auto', annotations: {}, labels });
    expect(list.mediaType).toBe(DOCKER_LIST);
    expect(list.digest).toBe(assemble([amd, arm], AUTO).digest);
    expect(assemble([amd, arm], { mediaType: 'docker', annotations: {}, labels }).digest).toBe(list.digest);
    const oci = assemble([amd, arm], { mediaType: 'oci', annotations: {}, labels });
    expect(JSON.parse(text(oci.bytes)).annotations).toEqual(labels);
  });
});

describe('ordering', () => {
  const ORDER = [
    'linux/amd64',
    'linux/arm/v6',
    'linux/arm/v7',
    'linux/arm64',
    'linux/ppc64le',
    'linux/s390x',
    'windows/amd64:10.0.17763',
    'windows/amd64:10.0.20348',
  ];
  const images = ORDER.map((key) => {
    const digest = named(key);
    return image(key, digest, { mediaType: OCI_MANIFEST }, [attestation(named(`att ${key}`), digest)]);
  });
  // Reversed, so a sort that kept input order would fail every row.
  const entries = indexEntries([...images].reverse());

  test.each(ORDER.map((key, i) => [key, i] as const))(
    '%s is image %i, its attestation right after',
    (key, i) => {
      expect(entries).toHaveLength(ORDER.length * 2);
      const entry = entries[i * 2];
      const next = entries[i * 2 + 1];
      expect(entry?.platform && platformKey(entry.platform)).toBe(key);
      expect(entry?.digest).toBe(named(key));
      expect(next?.digest).toBe(named(`att ${key}`));
      expect(next?.annotations?.['vnd.docker.reference.digest']).toBe(named(key));
    },
  );

  test('the bytes follow the same order', () => {
    const written = manifests(assemble([...images].reverse(), AUTO).bytes).map((d) => d.digest);
    expect(written).toEqual(entries.map((d) => d.digest));
  });

  test('two different digests for one platform are ordered by digest', () => {
    const low = image('linux/amd64', dg('1'));
    const high = image('linux/amd64', dg('2'));
    const a = assemble([high, low], AUTO);
    const b = assemble([low, high], AUTO);
    expect(text(a.bytes)).toBe(text(b.bytes));
    expect(manifests(a.bytes).map((d) => d.digest)).toEqual([dg('1'), dg('2')]);
  });

  test('several attestations of one image follow it, by digest', () => {
    const img = image('linux/amd64', dg('a'), {}, [
      attestation(dg('f'), dg('a')),
      attestation(dg('e'), dg('a')),
    ]);
    const arm = image('linux/arm64', dg('0'), {}, [attestation(dg('b'), dg('0'))]);
    expect(indexEntries([img, arm]).map((d) => d.digest)).toEqual([
      dg('a'),
      dg('e'),
      dg('f'),
      dg('0'),
      dg('b'),
    ]);
  });
});

describe('duplicates', () => {
  test('the same image and attestation given twice appear once', () => {
    const one = image('linux/amd64', dg('a'), {}, [attestation(dg('b'), dg('a'))]);
    const two = image('linux/amd64', dg('a'), {}, [
      attestation(dg('b'), dg('a')),
      attestation(dg('b'), dg('a')),
    ]);
    const result = assemble([one, two, one], AUTO);
    expect(manifests(result.bytes).map((d) => d.digest)).toEqual([dg('a'), dg('b')]);
    expect(result.digest).toBe(assemble([one], AUTO).digest);
  });

  test('attestations split across duplicates of an image are united', () => {
    const both = image('linux/amd64', dg('a'), {}, [
      attestation(dg('b'), dg('a')),
      attestation(dg('c'), dg('a')),
    ]);
    const first = image('linux/amd64', dg('a'), {}, [attestation(dg('c'), dg('a'))]);
    const second = image('linux/amd64', dg('a'), {}, [attestation(dg('b'), dg('a'))]);
    expect(text(assemble([first, second], OCI).bytes)).toBe(text(assemble([both], OCI).bytes));
  });

  test('a digest given with differing descriptors resolves the same way in any order', () => {
    // A registry cannot serve this, but the choice between the two must still not follow input order.
    const a1 = image('linux/amd64', dg('a'), { size: 10 }, [attestation(dg('b'), dg('a'), 5)]);
    const a2 = image('linux/amd64', dg('a'), { size: 11 }, [attestation(dg('b'), dg('a'), 6)]);
    const forward = text(assemble([a1, a2], OCI).bytes);
    expect(text(assemble([a2, a1], OCI).bytes)).toBe(forward);
    expect(manifests(new TextEncoder().encode(forward)).map((d) => d.size)).toEqual([10, 5]);
  });
});

function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A deep copy whose object keys were inserted in random order; arrays keep their order (os.features does). */
function scramble<T>(value: T, rand: () => number): T {
  if (Array.isArray(value)) return value.map((v: unknown) => scramble(v, rand)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of shuffle(Object.keys(value), rand)) {
    out[key] = scramble((value as Record<string, unknown>)[key], rand);
  }
  return out as T;
}

describe('determinism', () => {
  const platforms: Platform[] = [
    parsePlatform('linux/amd64', 'test'),
    parsePlatform('linux/arm/v6', 'test'),
    parsePlatform('linux/arm/v7', 'test'),
    parsePlatform('linux/arm64/v8', 'test'),
    parsePlatform('linux/ppc64le', 'test'),
    parsePlatform('linux/s390x', 'test'),
    { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5329', 'os.features': ['win32k'] },
    { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2227' },
  ];
  const images = platforms.map((p, i) => {
    const digest = named(`image ${i}`);
    const atts =
      i < 6 ? [attestation(named(`att ${i}`), digest), attestation(named(`sbom ${i}`), digest)] : [];
    return image(p, digest, { mediaType: OCI_MANIFEST, size: 1000 + i }, atts);
  });
  const options: AssembleOptions = {
    mediaType: 'auto',
    annotations: { 'z.last': '1', 'a.first': '2', m: '3' },
  };
  const expected = assemble(images, options);

  test('input order, duplicates and key insertion order never change the digest', () => {
    const rand = mulberry32(0x5eed);
    const seen = new Set<string>();
    for (let iteration = 0; iteration < 200; iteration++) {
      const duplicates = Array.from({ length: Math.floor(rand() * 6) }, () => {
        const original = images[Math.floor(rand() * images.length)] as PlatformImage;
        // A duplicate may carry any subset of the attestations, each perhaps twice.
        const atts = original.attestations.filter(() => rand() < 0.5);
        return { ...original, attestations: [...atts, ...atts.filter(() => rand() < 0.5)] };
      });
      const input = shuffle([...images, ...duplicates], rand).map((img) => scramble(img, rand));
      const scrambledOptions = { ...options, annotations: scramble(options.annotations, rand) };
      seen.add(JSON.stringify(input));
      const result = assemble(input, scrambledOptions);
      expect(result.digest).toBe(expected.digest);
      expect(text(result.bytes)).toBe(text(expected.bytes));
    }
    // Guards against a generator that produced the same input every time.
    expect(seen.size).toBeGreaterThan(150);
    expect(manifests(expected.bytes)).toHaveLength(8 + 12);
  });
});

describe('media-type', () => {
  const amd = image('linux/amd64', dg('a'));
  const arm = image('linux/arm64', dg('b'));
  const ociArm = image('linux/arm64', dg('c'), { mediaType: OCI_MANIFEST });

  test('auto picks a Docker list when every child is a Docker v2 manifest', () => {
    const result = assemble([amd, arm], AUTO);
    expect(result.mediaType).toBe(DOCKER_LIST);
    expect(JSON.parse(text(result.bytes)).mediaType).toBe(DOCKER_LIST);
  });

  test.each([
    ['an OCI child', [amd, ociArm]],
    ['an attestation', [amd, image('linux/arm64', dg('b'), {}, [attestation(dg('e'), dg('b'))])]],
    ['a child with annotations', [amd, image('linux/arm64', dg('b'), { annotations: { x: 'y' } })]],
    [
      'a child with an artifactType',
      [amd, image('linux/arm64', dg('b'), { artifactType: 'application/x.t' })],
    ],
  ])('auto picks OCI for %s', (_, images) => {
    const result = assemble(images, AUTO);
    expect(result.mediaType).toBe(OCI_INDEX);
    expect(JSON.parse(text(result.bytes)).mediaType).toBe(OCI_INDEX);
  });

  test('auto picks OCI when index annotations are asked for, rather than dropping them', () => {
    const result = assemble([amd, arm], { mediaType: 'auto', annotations: { a: 'b' } });
    expect(result.mediaType).toBe(OCI_INDEX);
    expect(JSON.parse(text(result.bytes)).annotations).toEqual({ a: 'b' });
  });

  test('oci forces an OCI index; children keep their own media type', () => {
    const result = assemble([amd, arm], OCI);
    expect(result.mediaType).toBe(OCI_INDEX);
    expect(JSON.parse(text(result.bytes)).mediaType).toBe(OCI_INDEX);
    expect(manifests(result.bytes).map((d) => d.mediaType)).toEqual([DOCKER_MANIFEST, DOCKER_MANIFEST]);
    expect(result.digest).not.toBe(assemble([amd, arm], AUTO).digest);
  });

  test('docker with Docker children gives a Docker list without annotations', () => {
    const result = assemble([arm, amd], DOCKER);
    expect(result.mediaType).toBe(DOCKER_LIST);
    expect(text(result.bytes)).toBe(text(assemble([amd, arm], AUTO).bytes));
    expect(text(result.bytes)).not.toContain('annotations');
  });

  test('docker with an OCI child names the input, the child and the fix', () => {
    const run = () => assemble([amd, ociArm], DOCKER);
    expect(run).toThrow(/^media-type: docker cannot hold /);
    expect(run).toThrow(`linux/arm64 ${dg('c')}`);
    expect(run).toThrow(OCI_MANIFEST);
    expect(run).toThrow('Use media-type: oci or auto');
  });

  test('docker with an attestation names the attestation and its image', () => {
    const run = () =>
      assemble([amd, image('linux/arm64', dg('b'), {}, [attestation(dg('e'), dg('b'))])], DOCKER);
    expect(run).toThrow(/^media-type: docker /);
    expect(run).toThrow(`attestation manifest ${dg('e')} of linux/arm64 ${dg('b')}`);
    expect(run).toThrow('Use media-type: oci or auto');
  });

  test.each([
    ['annotations', { annotations: { x: 'y' } }, 'it has annotations'],
    ['artifactType', { artifactType: 'application/x.t' }, 'artifactType application/x.t'],
  ])('docker refuses a child with %s', (_, extra, message) => {
    const run = () => assemble([amd, image('linux/arm64', dg('b'), extra)], DOCKER);
    expect(run).toThrow(/^media-type: docker /);
    expect(run).toThrow(message);
    expect(run).toThrow(dg('b'));
  });

  test('docker with index annotations names annotations and the fix', () => {
    const run = () =>
      assemble([amd, arm], { mediaType: 'docker', annotations: { 'org.b': '1', 'org.a': '2' } });
    expect(run).toThrow(/^media-type: docker /);
    expect(run).toThrow('annotations: org.a, org.b');
    expect(run).toThrow('Use media-type: oci or auto');
  });

  test('the child named in a docker refusal does not depend on input order', () => {
    const oci1 = image('linux/arm64', dg('c'), { mediaType: OCI_MANIFEST });
    const oci2 = image('linux/s390x', dg('d'), { mediaType: OCI_MANIFEST });
    const message = (images: PlatformImage[]) => {
      try {
        assemble(images, DOCKER);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(message([oci2, amd, oci1])).toBe(message([oci1, amd, oci2]));
    expect(message([oci2, amd, oci1])).toContain(dg('c'));
  });
});

describe('serialisation', () => {
  test('a Windows platform writes os.version and os.features in the spec order', () => {
    // Keys inserted out of order, to show the output order is not the input's.
    const platform = {
      'os.features': ['win32k'],
      variant: 'v1',
      'os.version': '10.0.20348.2113',
      os: 'windows',
      architecture: 'amd64',
    } as Platform;
    const result = assemble([image(platform, dg('a'))], AUTO);
    expect(text(result.bytes)).toContain(
      '"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.20348.2113",' +
        '"os.features":["win32k"],"variant":"v1"}',
    );
  });

  test('os.features keep the order given', () => {
    const platform: Platform = { os: 'windows', architecture: 'amd64', 'os.features': ['z', 'a'] };
    expect(text(assemble([image(platform, dg('a'))], AUTO).bytes)).toContain('"os.features":["z","a"]');
  });

  test('descriptor fields are written in a fixed order, whatever the input order', () => {
    const descriptor = {
      annotations: { b: '2', a: '1' },
      platform: { os: 'linux', architecture: 'amd64' },
      artifactType: 'application/x.t',
      size: 7,
      digest: dg('a'),
      mediaType: OCI_MANIFEST,
    } as const;
    expect(indexJson(OCI_INDEX, [descriptor], {})).toBe(
      `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[{"mediaType":"${OCI_MANIFEST}",` +
        `"digest":"${dg('a')}","size":7,"artifactType":"application/x.t",` +
        '"platform":{"architecture":"amd64","os":"linux"},"annotations":{"a":"1","b":"2"}}]}',
    );
  });

  test('empty annotations are left out, not written as {}', () => {
    const bytes = text(assemble([image('linux/amd64', dg('a'), { annotations: {} })], OCI).bytes);
    expect(bytes).not.toContain('annotations');
  });

  test('annotation keys sort by UTF-8 bytes, integer-like keys included', () => {
    // JavaScript enumerates integer-like keys first and numerically; `<` on strings compares UTF-16 units.
    const annotations = { b: '1', '9': '2', '10': '3', '!': '4', '\u{1F600}': '5', '\uFF01': '6' };
    const json = indexJson(OCI_INDEX, [], annotations);
    expect(json).toBe(
      `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[],` +
        '"annotations":{"!":"4","10":"3","9":"2","b":"1","\uFF01":"6","\u{1F600}":"5"}}',
    );
  });

  test('non-ASCII is written as UTF-8', () => {
    const result = assemble([image('linux/amd64', dg('a'))], { mediaType: 'oci', annotations: { t: 'é' } });
    expect([...result.bytes.slice(-6)]).toEqual([0x22, 0xc3, 0xa9, 0x22, 0x7d, 0x7d]);
  });
});

test('empty input is refused', () => {
  expect(() => assemble([], AUTO)).toThrow('no source images to assemble');
});
