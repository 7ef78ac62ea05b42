import { expect, test } from 'vitest';
import { type AssembledIndex, assemble } from '../src/assemble.js';
import { type ForwardRun, imagesOfIndex, unionOf } from '../src/forward.js';
import type { Ordering } from '../src/ordering.js';
import { parsePlatform } from '../src/platform.js';
import type { PlatformImage } from '../src/platform-images.js';
import { type Digest, digestOf } from '../src/registry/digest.js';
import { parseRepository } from '../src/registry/reference.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const REVISION = { 'org.opencontainers.image.revision': 'abc' };

function image(platform: string): PlatformImage {
  return {
    descriptor: {
      mediaType: OCI_MANIFEST,
      digest: digestOf(new TextEncoder().encode(platform)) as Digest,
      size: 500,
      platform: parsePlatform(platform, 'test'),
    },
    attestations: [],
    source: platform,
  };
}

/** One run of a same-revision pair, with the labels its own platforms agree on. */
function run(
  platform: string,
  labels: Record<string, string>,
): ForwardRun & { json: Record<string, unknown> } {
  const images = [image(platform)];
  const options = {
    mediaType: 'auto' as const,
    annotations: REVISION,
    descriptorAnnotations: [{ key: 'org.opencontainers.image.title', value: 'app' }],
    labels,
  };
  const index: AssembledIndex = assemble(images, options);
  return {
    image: parseRepository('ghcr.io/org/app'),
    index,
    images,
    ...options,
    ordering: {} as Ordering,
    json: JSON.parse(new TextDecoder().decode(index.bytes)) as Record<string, unknown>,
  };
}

test('a same-revision union with labels is the same whichever run wrote first', () => {
  const a = run('linux/amd64', {
    'org.opencontainers.image.description': 'b',
    'org.opencontainers.image.vendor': 'v',
  });
  const b = run('linux/arm64', { 'org.opencontainers.image.description': 'a' });
  const annotationsOf = (r: typeof a) => r.json['annotations'] as Record<string, string>;

  const aFirst = unionOf(b, imagesOfIndex(a.json), annotationsOf(a));
  const bFirst = unionOf(a, imagesOfIndex(b.json), annotationsOf(b));

  expect(aFirst.digest).toBe(bFirst.digest);
  const union = JSON.parse(new TextDecoder().decode(aFirst.bytes)) as {
    annotations: Record<string, string>;
    manifests: { annotations?: Record<string, string> }[];
  };
  expect(union.annotations).toEqual({
    ...REVISION,
    'org.opencontainers.image.description': 'a',
    'org.opencontainers.image.vendor': 'v',
  });
  expect(union.manifests.map((m) => m.annotations)).toEqual([
    { 'org.opencontainers.image.title': 'app' },
    { 'org.opencontainers.image.title': 'app' },
  ]);
});
