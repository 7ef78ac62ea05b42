import { describe, expect, test } from 'vitest';
import { changesTo } from '../src/promote.js';
import { parse } from './helpers/inputs.js';

/** Which options change a promoted index (src/promote.ts): each names its input; a matching one is no change. */

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const REVISION = 'org.opencontainers.image.revision';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const BASE = { image: 'ghcr.io/org/app', tags: 'prod', sources: ':testing' };

const buildxIndex = {
  mediaType: OCI_INDEX,
  json: {
    manifests: [
      { digest: 'sha256:1', platform: { os: 'linux', architecture: 'amd64' } },
      {
        digest: 'sha256:2',
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
      },
    ],
  },
  annotations: { [REVISION]: SHA, 'org.opencontainers.image.title': 'app' },
};

const changes = (
  values: Record<string, string>,
  revision?: string,
  index: Parameters<typeof changesTo>[2] = buildxIndex,
) => changesTo(parse({ ...BASE, ...values }), revision, index).map((c) => [c.input, c.why]);

describe('what changes a promoted index', () => {
  test('nothing, by default', () => {
    expect(changes({})).toEqual([]);
  });

  test.each([
    [{ annotations: 'a=b' }, 'annotations', 'annotations would set a=b on it'],
    [
      { attestations: 'drop' },
      'attestations',
      'attestations: drop would take its 1 attestation manifest(s) out',
    ],
    [
      { 'media-type': 'docker' },
      'media-type',
      `media-type: docker would turn its ${OCI_INDEX} into a ${DOCKER_LIST}`,
    ],
  ])('%o changes it, named by %s', (values, input, why) => {
    expect(changes(values)).toEqual([[input, why]]);
  });

  test('an annotation the index carries with that value, attestations: drop without attestations, the same media type: no change', () => {
    expect(changes({ annotations: 'org.opencontainers.image.title=app', 'media-type': 'oci' })).toEqual([]);
    const plain = { ...buildxIndex, json: { manifests: buildxIndex.json.manifests.slice(0, 1) } };
    expect(changes({ attestations: 'drop' }, undefined, plain)).toEqual([]);
  });

  test('forward: the index orders by its own revision, so the workflow commit added by default is no change', () => {
    expect(changes({ 'if-tag-exists': 'forward' }, 'f'.repeat(40))).toEqual([]);
  });

  test('forward: an index without the order annotation would have to get it', () => {
    const bare = { ...buildxIndex, annotations: {} };
    expect(changes({ 'if-tag-exists': 'forward' }, SHA, bare)).toEqual([
      ['if-tag-exists', `if-tag-exists: forward needs ${REVISION} on the index, which it lacks`],
    ]);
    // Given in annotations, it is that annotation which changes the index.
    expect(
      changes({ 'if-tag-exists': 'forward', annotations: `${REVISION}=${SHA}` }, undefined, bare),
    ).toEqual([['annotations', `annotations would set ${REVISION}=${SHA} on it`]]);
  });
});
