import { type DescriptorAnnotation, entryAnnotations } from './annotations.js';
import { indexJson, sortKeys } from './canonical-json.js';
import { platformKey } from './platform.js';
import { canonicalImages, indexEntries, type PlatformImage } from './platform-images.js';
import type { Descriptor } from './registry/descriptor.js';
import { type Digest, digestOf } from './registry/digest.js';
import { DOCKER_LIST, DOCKER_MANIFEST, type IndexMediaType, OCI_INDEX } from './registry/media-types.js';

export type MediaTypeChoice = 'auto' | 'oci' | 'docker';

export interface AssembleOptions {
  readonly mediaType: MediaTypeChoice;
  /** On the index. */
  readonly annotations: Readonly<Record<string, string>>;
  /** `manifest-descriptor:` annotations: on every platform entry (not on attestation entries). */
  readonly descriptorAnnotations?: readonly DescriptorAnnotation[];
  /**
   * Image labels every platform agrees on: index annotations under `annotations` (which wins a key both set), on
   * an OCI index only. They never choose the media type: a Docker manifest list simply goes without them.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface AssembledIndex {
  readonly mediaType: IndexMediaType;
  /** The exact bytes to PUT; `digest` is their sha256. */
  readonly bytes: Uint8Array;
  readonly digest: Digest;
}

/**
 * Builds the index from the per-platform images. The bytes depend only on the set of images (duplicates
 * collapse) and the options: never on input order, on duplicates, or on the key order of input objects.
 */
export function assemble(images: readonly PlatformImage[], options: AssembleOptions): AssembledIndex {
  if (images.length === 0) throw new Error('no source images to assemble');
  const descriptors = options.descriptorAnnotations ?? [];
  const merged = canonicalImages(images).map((image) => annotated(image, descriptors));
  const mediaType = chooseMediaType(merged, options);
  const annotations =
    mediaType === OCI_INDEX ? { ...options.labels, ...options.annotations } : options.annotations;
  const text = indexJson(mediaType, indexEntries(merged), annotations);
  const bytes = new TextEncoder().encode(text);
  return { mediaType, bytes, digest: digestOf(bytes) };
}

/**
 * Picks the index media type for `options.mediaType`, or throws when `docker` cannot represent the input.
 * Takes merged, ordered images so the child named in an error does not depend on input order.
 */
function chooseMediaType(images: readonly PlatformImage[], options: AssembleOptions): IndexMediaType {
  if (options.mediaType === 'oci') return OCI_INDEX;
  const annotationKeys = Object.keys(options.annotations);
  const obstacle = images.map(dockerObstacle).find((o) => o !== undefined);
  if (options.mediaType === 'auto') {
    // Annotations would be lost in a Docker list, so their presence alone means OCI.
    return obstacle === undefined && annotationKeys.length === 0 ? DOCKER_LIST : OCI_INDEX;
  }
  if (options.descriptorAnnotations?.length) {
    const keys = options.descriptorAnnotations.map((d) => d.key);
    throw new Error(
      `media-type: docker cannot carry annotations on its entries (annotations: manifest-descriptor:` +
        `${sortKeys([...new Set(keys)]).join(', ')}): Docker manifest lists have no annotations. Use media-type: ` +
        'oci or auto, or remove the manifest-descriptor: lines',
    );
  }
  if (annotationKeys.length > 0) {
    throw new Error(
      `media-type: docker cannot carry the index annotations (annotations: ${sortKeys(annotationKeys).join(', ')}): ` +
        'Docker manifest lists have no annotations. Use media-type: oci or auto, or remove annotations',
    );
  }
  if (obstacle !== undefined) {
    throw new Error(
      `media-type: docker cannot hold ${obstacle}: a Docker manifest list holds only Docker v2 image manifests ` +
        'without annotations or artifactType. Use media-type: oci or auto',
    );
  }
  return DOCKER_LIST;
}

/** The image with the `manifest-descriptor:` annotations on its entry. */
function annotated(image: PlatformImage, descriptors: readonly DescriptorAnnotation[]): PlatformImage {
  const { descriptor } = image;
  const annotations = entryAnnotations(descriptor.annotations, descriptor.platform, descriptors);
  if (annotations === descriptor.annotations) return image;
  return { ...image, descriptor: { ...descriptor, ...(annotations ? { annotations } : {}) } };
}

/** Why an image (or one of its attestations) cannot go in a Docker manifest list, naming it; else undefined. */
function dockerObstacle(image: PlatformImage): string | undefined {
  const where = `${platformKey(image.descriptor.platform)} ${image.descriptor.digest} (from ${image.source})`;
  const own = descriptorObstacle(image.descriptor);
  if (own) return `${where}: ${own}`;
  const attestation = image.attestations[0];
  if (attestation) {
    return `the attestation manifest ${attestation.digest} of ${where}: attestations are OCI-only`;
  }
  return undefined;
}

function descriptorObstacle(d: Descriptor): string | undefined {
  if (d.mediaType !== DOCKER_MANIFEST) return `its media type is ${d.mediaType}, not ${DOCKER_MANIFEST}`;
  if (d.artifactType) return `it has artifactType ${d.artifactType}`;
  if (d.annotations && Object.keys(d.annotations).length > 0) return 'it has annotations';
  return undefined;
}
