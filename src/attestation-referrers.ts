import { referrerManifestJson } from './canonical-json.js';
import type { ConsistencyWait } from './consistency.js';
import type { RunContext } from './context.js';
import { counted } from './log.js';
import { platformKey, quote } from './platform.js';
import type { PlatformImage } from './platform-images.js';
import type { FetchedManifest } from './registry/client.js';
import { type Descriptor, isStringRecord, parseDescriptor } from './registry/descriptor.js';
import { type Digest, digestOf } from './registry/digest.js';
import { OCI_MANIFEST } from './registry/media-types.js';
import { canonicalName, type Repository } from './registry/reference.js';
import { type ReferrerManifest, type StoredReferrer, storeReferrers } from './registry/referrers.js';
import type { Target } from './targets.js';

/**
 * `attestations: referrers`: each buildx attestation manifest leaves the index and is stored instead as an OCI
 * referrer of the image it describes, so registry UIs list only real platforms while provenance and SBOMs stay
 * discoverable (referrers API, or the `sha256-<hex>` fallback tag: registry/referrers.ts stores them).
 */

/** The artifact type readers filter attestation referrers by, as BuildKit gives its own. */
export const ATTESTATION_ARTIFACT_TYPE = 'application/vnd.docker.attestation.manifest.v1+json';

/** An attestation as a referrer manifest to store, with what it describes for the log and the summary. */
export interface AttestationReferrer extends ReferrerManifest {
  /** The referrer manifest's digest. */
  readonly digest: Digest;
  /** The attestation manifest it was made from (the index entry it replaces). */
  readonly attestation: Digest;
  /** The platform manifest it refers to. */
  readonly subject: Digest;
  readonly platform: string;
}

/**
 * The referrer manifests of every attestation of `images`, read from `repository` through `wait` (resolve read
 * them in the round that checked them, so these reads are answered from memory). An attestation that already is
 * a referrer of its image (newer BuildKit: `subject` set) is stored as it is.
 */
export async function attestationReferrers(
  images: readonly PlatformImage[],
  repository: Repository,
  wait: ConsistencyWait,
): Promise<AttestationReferrer[]> {
  const pending = images.flatMap((image) =>
    image.attestations.map(async (attestation) => {
      const manifest = await wait.manifest(repository, attestation.digest);
      const where = `${canonicalName(repository)}@${attestation.digest}`;
      const made = referrerOfAttestation(manifest, image.descriptor, where);
      return {
        ...made,
        digest: digestOf(made.bytes),
        attestation: attestation.digest,
        subject: image.descriptor.digest,
        platform: platformKey(image.descriptor.platform),
      };
    }),
  );
  return Promise.all(pending);
}

/**
 * The referrer an attestation manifest becomes: its config and layers as they are (the same blobs, the same
 * in-toto statements), in an OCI image manifest with `artifactType` and `subject` (the image it describes).
 */
export function referrerOfAttestation(
  manifest: FetchedManifest,
  image: Descriptor,
  where: string,
): ReferrerManifest {
  const json = manifest.json;
  const subject = (json['subject'] as { digest?: unknown } | undefined)?.digest;
  if (subject !== undefined) {
    if (subject !== image.digest) {
      throw new Error(
        `the attestation ${where} names ${typeof subject === 'string' ? quote(subject, 80) : 'a malformed digest'} as its subject, not the image ` +
          `${image.digest} it is listed with: rebuild and push the image`,
      );
    }
    return { bytes: manifest.bytes, mediaType: manifest.descriptor.mediaType };
  }
  const config = parseDescriptor(json['config']);
  const rawLayers = json['layers'];
  const layers = Array.isArray(rawLayers) ? rawLayers.map(parseDescriptor) : [];
  if (!config || !Array.isArray(rawLayers) || layers.some((layer) => layer === undefined)) {
    throw new Error(
      `the attestation ${where} is not an image manifest with a config and layers (a media type, digest or ` +
        'size that is not valid): it cannot be stored as a referrer. Rebuild and push the image, or use ' +
        'attestations: keep',
    );
  }
  const annotations = json['annotations'];
  const text = referrerManifestJson({
    artifactType: ATTESTATION_ARTIFACT_TYPE,
    config,
    layers: layers as Descriptor[],
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
    annotations: isStringRecord(annotations) ? annotations : {},
  });
  return { bytes: new TextEncoder().encode(text), mediaType: OCI_MANIFEST };
}

/**
 * Stores the attestation referrers by digest in every target image (in order), before the tags are read: no tag
 * is written here, their fallback tags are updated beside the tag writes (publish.ts).
 */
export async function storeAttestations(
  targets: readonly Target[],
  manifests: readonly ReferrerManifest[],
  context: RunContext,
): Promise<StoredReferrer[][]> {
  if (manifests.length === 0) return targets.map(() => []);
  return Promise.all(
    targets.map(async ({ image }) => {
      const stored = await storeReferrers(image, manifests, context);
      const via = stored.some((r) => r.via === 'tag') ? 'their fallback tags' : 'the referrers API';
      context.log.info(
        `${image.display}: ${counted(stored.length, 'attestation')} stored as referrers of their images (listed in ${via} once the tags are decided)`,
      );
      return stored;
    }),
  );
}
