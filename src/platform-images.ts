import { descriptorJson } from './canonical-json.js';
import { comparePlatforms, compareText, type Platform } from './platform.js';
import type { Descriptor } from './registry/descriptor.js';

/** A per-platform image manifest and the attestation manifests that describe it. */
export interface PlatformImage {
  readonly descriptor: Descriptor & { readonly platform: Platform };
  readonly attestations: readonly Descriptor[];
  /** The source entry it came from, for the summary and messages. */
  readonly source: string;
  /**
   * The `org.opencontainers.image.*` labels of its config that an index may carry (annotations.ts INDEX_LABELS);
   * undefined when the config was not read.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Collapses images with the same digest and unions their attestations, deduplicated by digest; returns them
 * ordered by platform, then digest, with attestations by digest. When two inputs share a digest but differ
 * otherwise (which a registry cannot produce), the one whose serialisation sorts first wins, so the choice
 * does not depend on input order.
 */
export function canonicalImages(images: readonly PlatformImage[]): PlatformImage[] {
  const byDigest = new Map<
    string,
    { image: PlatformImage; attestations: Map<string, Descriptor>; labels?: PlatformImage['labels'] }
  >();
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
    if (image.labels && !entry.labels) entry.labels = image.labels;
    for (const attestation of image.attestations) {
      const seen = entry.attestations.get(attestation.digest);
      if (!seen || compareSerialised(attestation, seen) < 0)
        entry.attestations.set(attestation.digest, attestation);
    }
  }
  return [...byDigest.values()]
    .map(({ image, attestations, labels }) => ({
      descriptor: image.descriptor,
      attestations: [...attestations.values()].sort(compareDigests),
      source: image.source,
      // One digest, one config: any reading of its labels is the reading.
      ...(labels ? { labels } : {}),
    }))
    .sort(
      (a, b) =>
        comparePlatforms(a.descriptor.platform, b.descriptor.platform) ||
        compareDigests(a.descriptor, b.descriptor),
    );
}

/** The index entries in their fixed order: each image followed by the attestations that describe it. */
export function indexEntries(images: readonly PlatformImage[]): Descriptor[] {
  return canonicalImages(images).flatMap((image) => [image.descriptor, ...image.attestations]);
}

function compareDigests(a: Descriptor, b: Descriptor): number {
  return compareText(a.digest, b.digest);
}

function compareSerialised(a: Descriptor, b: Descriptor): number {
  return compareText(descriptorJson(a), descriptorJson(b));
}
