import type { AssembledIndex, AssembleOptions, IndexDescriptor, PlatformImage } from './model.js';
import { comparePlatforms, type Platform, platformKey } from './platform.js';
import { digestOf } from './registry/digest.js';
import { DOCKER_LIST, DOCKER_MANIFEST, type IndexMediaType, OCI_INDEX } from './registry/media-types.js';

/**
 * Builds the index from the per-platform images. The bytes depend only on the set of images (duplicates
 * collapse) and the options: never on input order, on duplicates, or on the key order of input objects.
 */
export function assemble(images: readonly PlatformImage[], options: AssembleOptions): AssembledIndex {
  if (images.length === 0) throw new Error('no source images to assemble');
  const merged = canonicalImages(images);
  const mediaType = chooseMediaType(merged, options);
  const text = indexJson(mediaType, flatten(merged), options.annotations);
  const bytes = new TextEncoder().encode(text);
  return { mediaType, bytes, digest: digestOf(bytes) };
}

/** The index entries in their fixed order: images by platform then digest, each followed by its attestations. */
export function orderEntries(images: readonly PlatformImage[]): IndexDescriptor[] {
  return flatten(canonicalImages(images));
}

/**
 * The one serialisation of an index: keys in a fixed order, no whitespace. The text is written from ordered
 * field lists rather than objects, so neither the key order of the caller's objects nor JavaScript's rule of
 * enumerating integer-like keys (an annotation named "10") first can change the bytes.
 */
export function indexJson(
  mediaType: IndexMediaType,
  entries: readonly IndexDescriptor[],
  annotations: Readonly<Record<string, string>>,
): string {
  return objectJson([
    ['schemaVersion', '2'],
    ['mediaType', JSON.stringify(mediaType)],
    ['manifests', `[${entries.map(descriptorJson).join(',')}]`],
    ['annotations', annotationsJson(annotations)],
  ]);
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

function descriptorObstacle(d: IndexDescriptor): string | undefined {
  if (d.mediaType !== DOCKER_MANIFEST) return `its media type is ${d.mediaType}, not ${DOCKER_MANIFEST}`;
  if (d.artifactType) return `it has artifactType ${d.artifactType}`;
  if (d.annotations && Object.keys(d.annotations).length > 0) return 'it has annotations';
  return undefined;
}

/**
 * Collapses images with the same digest and unions their attestations, deduplicated by digest; returns them
 * ordered by platform, then digest, with attestations by digest. When two inputs share a digest but differ
 * otherwise (which a registry cannot produce), the one whose serialisation sorts first wins, so the choice
 * does not depend on input order.
 */
export function canonicalImages(images: readonly PlatformImage[]): PlatformImage[] {
  const byDigest = new Map<string, { image: PlatformImage; attestations: Map<string, IndexDescriptor> }>();
  for (const image of images) {
    const digest = image.descriptor.digest;
    let entry = byDigest.get(digest);
    if (!entry) {
      entry = { image, attestations: new Map() };
      byDigest.set(digest, entry);
    } else if (
      // The source only shows in messages, but those should not depend on input order either.
      (compareSerialised(image.descriptor, entry.image.descriptor) ||
        compareText(image.source, entry.image.source)) < 0
    ) {
      entry.image = image;
    }
    for (const attestation of image.attestations) {
      const seen = entry.attestations.get(attestation.digest);
      if (!seen || compareSerialised(attestation, seen) < 0)
        entry.attestations.set(attestation.digest, attestation);
    }
  }
  return [...byDigest.values()]
    .map(({ image, attestations }) => ({
      descriptor: image.descriptor,
      attestations: [...attestations.values()].sort(compareDigests),
      source: image.source,
    }))
    .sort(
      (a, b) =>
        comparePlatforms(a.descriptor.platform, b.descriptor.platform) ||
        compareDigests(a.descriptor, b.descriptor),
    );
}

/** Each image followed by the attestations that describe it. */
function flatten(images: readonly PlatformImage[]): IndexDescriptor[] {
  return images.flatMap((image) => [image.descriptor, ...image.attestations]);
}

/** A field name and its value as JSON text; undefined leaves the field out. */
type Field = readonly [name: string, json: string | undefined];

function objectJson(fields: readonly Field[]): string {
  const written = fields.flatMap(([name, json]) =>
    json === undefined ? [] : [`${JSON.stringify(name)}:${json}`],
  );
  return `{${written.join(',')}}`;
}

function descriptorJson(d: IndexDescriptor): string {
  return objectJson([
    ['mediaType', JSON.stringify(d.mediaType)],
    ['digest', JSON.stringify(d.digest)],
    ['size', JSON.stringify(d.size)],
    ['artifactType', d.artifactType ? JSON.stringify(d.artifactType) : undefined],
    ['platform', d.platform && platformJson(d.platform)],
    ['annotations', d.annotations && annotationsJson(d.annotations)],
  ]);
}

/** The OCI image-index field order; absent and empty fields are left out rather than written empty. */
function platformJson(p: Platform): string {
  const features = p['os.features'];
  return objectJson([
    ['architecture', JSON.stringify(p.architecture)],
    ['os', JSON.stringify(p.os)],
    ['os.version', p['os.version'] ? JSON.stringify(p['os.version']) : undefined],
    ['os.features', features && features.length > 0 ? JSON.stringify(features) : undefined],
    ['variant', p.variant ? JSON.stringify(p.variant) : undefined],
  ]);
}

/** Keys sorted; undefined when there are none, so an empty map is left out rather than written `{}`. */
function annotationsJson(annotations: Readonly<Record<string, string>>): string | undefined {
  const keys = sortKeys(Object.keys(annotations));
  if (keys.length === 0) return undefined;
  return objectJson(keys.map((key) => [key, JSON.stringify(annotations[key])]));
}

/**
 * Code-point order, which is UTF-8 byte order (as Go and most registries' tools sort): plain `<` compares
 * UTF-16 units and differs for characters outside the Basic Multilingual Plane. Locale collation would vary.
 */
function sortKeys(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function compareText(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareDigests(a: IndexDescriptor, b: IndexDescriptor): number {
  return compareText(a.digest, b.digest);
}

function compareSerialised(a: IndexDescriptor, b: IndexDescriptor): number {
  return compareText(descriptorJson(a), descriptorJson(b));
}
