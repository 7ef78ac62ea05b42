import type { AssembledIndex } from './assemble.js';
import { platformKey } from './platform.js';
import type { PlatformImage } from './platform-images.js';
import type { ImageOutcome } from './publish.js';
import { type Digest, isDigest } from './registry/digest.js';
import { digestRef, tagRef } from './registry/reference.js';

export interface PlatformRow {
  readonly platform: string;
  readonly digest: Digest;
  readonly size: number;
  readonly source: string;
  readonly attestations: number;
}

/** What one target image got: its refs and, tag by tag, what happened. */
export interface ImageResult extends ImageOutcome {
  readonly ref: string;
  /** Full references of this image's tags that serve the index (written or already there). */
  readonly tagRefs: readonly string[];
  readonly platformRefs: Readonly<Record<string, string>>;
}

export interface Result {
  readonly digest: Digest;
  /** The primary image's `<image>@<digest>`. */
  readonly ref: string;
  readonly mediaType: string;
  /** Full references of every image's tags that serve the index. */
  readonly tags: readonly string[];
  readonly platformDigests: Readonly<Record<string, string>>;
  /** The primary image's per-platform refs. */
  readonly platformRefs: Readonly<Record<string, string>>;
  /** The index JSON exactly as written. */
  readonly manifest: string;
  readonly written: boolean;
  readonly dryRun: boolean;
  /** Every target image, the primary first. */
  readonly images: readonly ImageResult[];
  readonly platforms: readonly PlatformRow[];
  /** How long the registry took to serve the sources that were missing (0 when none was). */
  readonly waitedMs: number;
  /**
   * Every manifest digest the tags serve or refer to: the index and its entries in index order, any union index a
   * forward tag serves instead and its entries, then the referrers brought or stored with them, by digest.
   */
  readonly digests: readonly Digest[];
  /** Sources given by tag, and the digest each was pinned to when the run started. */
  readonly pinned: readonly { readonly tag: string; readonly digest: Digest }[];
  /** True when a single index source was published byte for byte. */
  readonly promoted: boolean;
  /** Where the attestation manifests went (`attestations`), and how many the sources had. */
  readonly attestations: { readonly mode: 'keep' | 'drop' | 'referrers'; readonly count: number };
}

/** What a run adds to the outcomes beside the index: pinned tags, referrers brought, whether it promoted,
 * and where the attestations went. */
export interface RunNotes {
  readonly pinned: Result['pinned'];
  readonly referrers: readonly Digest[];
  readonly promoted: boolean;
  /** `attestations`: where the attestation manifests went. */
  readonly attestations?: Result['attestations']['mode'];
}

/** A write that moved some tags but not all: the outputs of what did move still matter to the caller. */
export class PartialPublishError extends Error {
  override readonly name = 'PartialPublishError';
  constructor(
    message: string,
    readonly result: Result,
  ) {
    super(message);
  }
}

export function resultOf(
  dryRun: boolean,
  images: readonly PlatformImage[],
  index: AssembledIndex,
  outcomes: readonly ImageOutcome[],
  waitedMs: number,
  notes: RunNotes = { pinned: [], referrers: [], promoted: false },
): Result {
  const platformDigests: Record<string, string> = {};
  // Resolved images are already in index order, so the outputs list platforms in that order too.
  for (const item of images) platformDigests[platformKey(item.descriptor.platform)] = item.descriptor.digest;
  const results = outcomes.map((outcome) => imageResult(outcome, images, index.digest));
  const primary = results[0] as ImageResult;
  return {
    digest: index.digest,
    ref: primary.ref,
    mediaType: index.mediaType,
    tags: results.flatMap((result) => result.tagRefs),
    platformDigests,
    platformRefs: primary.platformRefs,
    manifest: Buffer.from(index.bytes).toString('utf8'),
    written: !dryRun && outcomes.some((outcome) => outcome.moved.length > 0),
    dryRun,
    images: results,
    platforms: images.map((item) => ({
      platform: platformKey(item.descriptor.platform),
      digest: item.descriptor.digest,
      size: item.descriptor.size,
      source: item.source,
      attestations: item.attestations.length,
    })),
    waitedMs: Math.round(waitedMs),
    digests: digestsOf(
      [index, ...outcomes.flatMap((o) => (o.forward ?? []).flatMap((n) => (n.union ? [n.union] : [])))],
      notes.referrers,
    ),
    pinned: notes.pinned,
    promoted: notes.promoted,
    attestations: {
      mode: notes.attestations ?? 'keep',
      count: images.reduce((sum, item) => sum + item.attestations.length, 0),
    },
  };
}

/**
 * The index, the manifests it lists (read from its exact bytes, so a promoted index counts as written), then any
 * union a forward tag serves instead and its children (another run's platforms), then the referrers.
 */
function digestsOf(indexes: readonly AssembledIndex[], referrers: readonly Digest[]): Digest[] {
  const listedIn = (index: AssembledIndex) => {
    const json = JSON.parse(Buffer.from(index.bytes).toString('utf8')) as { manifests?: unknown };
    const listed = Array.isArray(json.manifests) ? json.manifests : [];
    return listed.flatMap((entry: unknown) => {
      const digest = (entry as { digest?: unknown } | null)?.digest;
      return typeof digest === 'string' && isDigest(digest) ? [digest] : [];
    });
  };
  const served = indexes.flatMap((index) => [index.digest, ...listedIn(index)]);
  return [...new Set([...served, ...[...referrers].sort()])];
}

function imageResult(outcome: ImageOutcome, images: readonly PlatformImage[], digest: Digest): ImageResult {
  const { image } = outcome;
  const platformRefs: Record<string, string> = {};
  for (const item of images) {
    platformRefs[platformKey(item.descriptor.platform)] = digestRef(image, item.descriptor.digest);
  }
  const serving = new Set([...outcome.moved, ...outcome.unchanged]);
  return {
    ...outcome,
    ref: digestRef(image, digest),
    tagRefs: outcome.tags.filter((tag) => serving.has(tag)).map((tag) => tagRef(image, tag)),
    platformRefs,
  };
}
