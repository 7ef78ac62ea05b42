import type { Platform } from './platform.js';
import type { Digest } from './registry/digest.js';
import type { IndexMediaType } from './registry/media-types.js';
import type { Repository } from './registry/reference.js';

/** One entry of `sources` / `sources-dir`, parsed but not yet read from the registry. */
export interface SourceEntry {
  /** The entry as the user wrote it, for messages. */
  readonly text: string;
  /** Where the digest lives: the target image, or another repository for `<repo>@sha256:…`. */
  readonly repository: Repository;
  readonly digest: Digest;
  /** The platform the user asserted with a `<platform>=` prefix or a JSON object key. */
  readonly platform?: Platform;
}

/** A descriptor as it appears in an index. */
export interface IndexDescriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
}

/** A per-platform image manifest and the attestation manifests that describe it. */
export interface PlatformImage {
  readonly descriptor: IndexDescriptor & { readonly platform: Platform };
  readonly attestations: readonly IndexDescriptor[];
  /** The source entry it came from, for the summary and messages. */
  readonly source: string;
}

export type MediaTypeChoice = 'auto' | 'oci' | 'docker';

export interface AssembleOptions {
  readonly mediaType: MediaTypeChoice;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface AssembledIndex {
  readonly mediaType: IndexMediaType;
  /** The exact bytes to PUT; `digest` is their sha256. */
  readonly bytes: Uint8Array;
  readonly digest: Digest;
}
