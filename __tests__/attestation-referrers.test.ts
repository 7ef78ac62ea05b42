import { expect, test } from 'vitest';
import { ATTESTATION_ARTIFACT_TYPE, referrerOfAttestation } from '../src/attestation-referrers.js';
import type { FetchedManifest } from '../src/registry/client.js';
import { type Digest, digestOf } from '../src/registry/digest.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const dg = (hex: string) => `sha256:${hex.repeat(64)}` as Digest;
const image = { mediaType: OCI_MANIFEST, digest: dg('a'), size: 500 };

function fetched(json: Record<string, unknown>): FetchedManifest {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  return {
    descriptor: { mediaType: OCI_MANIFEST, digest: digestOf(bytes), size: bytes.length },
    bytes,
    json,
  };
}

/** A buildx provenance attestation manifest, keys in buildx's order. */
const attestation = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: dg('c'), size: 167 },
  layers: [
    {
      mediaType: 'application/vnd.in-toto+json',
      digest: dg('d'),
      size: 1234,
      annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
    },
  ],
};

test('golden: the same config and layers, with artifactType and the image as subject, in one fixed form', () => {
  const made = referrerOfAttestation(fetched(attestation), image, 'reg/app@x');
  expect(made.mediaType).toBe(OCI_MANIFEST);
  expect(new TextDecoder().decode(made.bytes)).toBe(
    `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","artifactType":"${ATTESTATION_ARTIFACT_TYPE}",` +
      `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${dg('c')}","size":167},` +
      `"layers":[{"mediaType":"application/vnd.in-toto+json","digest":"${dg('d')}","size":1234,` +
      '"annotations":{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}}],' +
      `"subject":{"mediaType":"${OCI_MANIFEST}","digest":"${dg('a')}","size":500}}`,
  );
  // Key order of what the registry served does not change the referrer.
  const reordered = {
    layers: attestation.layers,
    config: attestation.config,
    mediaType: OCI_MANIFEST,
    schemaVersion: 2,
  };
  expect(digestOf(referrerOfAttestation(fetched(reordered), image, 'x').bytes)).toBe(digestOf(made.bytes));
});

test('an attestation that already names its image as subject is stored as it is', () => {
  const artifact = fetched({ ...attestation, artifactType: 'application/vnd.in-toto+json', subject: image });
  const made = referrerOfAttestation(artifact, image, 'x');
  expect(made.bytes).toBe(artifact.bytes);
});

test.each([
  [
    'a subject other than its image',
    { ...attestation, subject: { ...image, digest: dg('b') } },
    `names "${dg('b')}" as its subject, not the image ${dg('a')}`,
  ],
  ['no config', { ...attestation, config: undefined }, 'is not an image manifest with a config and layers'],
  [
    'a layer with a bad digest',
    { ...attestation, layers: [{ mediaType: 'a/b', digest: 'sha256:zz', size: 1 }] },
    'use attestations: keep',
  ],
  ['layers that are not a list', { ...attestation, layers: {} }, 'cannot be stored as a referrer'],
])('an attestation with %s is refused, naming it', (_, json, message) => {
  expect(() => referrerOfAttestation(fetched(json), image, 'reg/app@sha256:x')).toThrow(message);
  expect(() => referrerOfAttestation(fetched(json), image, 'reg/app@sha256:x')).toThrow('reg/app@sha256:x');
});
