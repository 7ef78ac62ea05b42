import type { Platform } from '../platform.js';
import { type Digest, isDigest } from './digest.js';

/**
 * An OCI content descriptor. What a registry answers for a manifest fills the first three fields; an entry of
 * an index may carry the others.
 */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
}

/**
 * A descriptor read from registry content (an index's `manifests`, a referrers list), without its platform:
 * media type, digest, size, and the artifact type and annotations when well formed. Undefined when a required
 * field is missing or not valid, so the caller names where it came from.
 */
export function parseDescriptor(raw: unknown): Omit<Descriptor, 'platform'> | undefined {
  const d = (raw ?? {}) as Record<string, unknown>;
  const { mediaType, digest, size, annotations, artifactType } = d;
  if (
    typeof mediaType !== 'string' ||
    !isMediaType(mediaType) ||
    typeof digest !== 'string' ||
    !isDigest(digest) ||
    !Number.isSafeInteger(size) ||
    (size as number) < 0 ||
    (artifactType !== undefined && (typeof artifactType !== 'string' || !isMediaType(artifactType)))
  ) {
    return undefined;
  }
  return {
    mediaType,
    digest,
    size: size as number,
    ...(isStringRecord(annotations) ? { annotations } : {}),
    ...(typeof artifactType === 'string' ? { artifactType } : {}),
  };
}

/** `type/subtype` with the characters RFC 6838 allows, bounded: these go into indexes and into messages. */
export function isMediaType(value: string): boolean {
  return (
    value.length <= 255 && /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/.test(value)
  );
}

export function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
