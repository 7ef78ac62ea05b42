import { indexLabelsOf } from './annotations.js';
import type { ConsistencyWait } from './consistency.js';
import type { RunContext } from './context.js';
import { errorMessage } from './errors.js';
import { NotServedError, whenAllServed } from './not-served.js';
import {
  InvalidPlatformError,
  type Platform,
  platformFrom,
  platformKey,
  platformMatches,
} from './platform.js';
import { canonicalImages, type PlatformImage } from './platform-images.js';
import { MAX_MANIFEST_BYTES } from './registry/api.js';
import type { FetchedManifest } from './registry/client.js';
import { type Descriptor, parseDescriptor } from './registry/descriptor.js';
import { type Digest, isDigest } from './registry/digest.js';
import { isLag } from './registry/errors.js';
import { isImageMediaType, isIndexMediaType, isManifestMediaType } from './registry/media-types.js';
import { canonicalName, type Repository, tagRef } from './registry/reference.js';
import { dedupeSources, isTagged, type SourceEntry, type SourceInput } from './sources.js';

const REFERENCE_TYPE = 'vnd.docker.reference.type';
const REFERENCE_DIGEST = 'vnd.docker.reference.digest';
const ATTESTATION_MANIFEST = 'attestation-manifest';

export interface ResolveContext extends RunContext {
  readonly wait: ConsistencyWait;
  /** The target repository: sources are read from here, so the index PUT finds its children. */
  readonly image: Repository;
  /** Read each source from its own repository instead (a dry run, which brings nothing into the image). */
  readonly readFromSources: boolean;
  /**
   * Called once every source manifest is served, as the configs are asked for: the tags are read then, in the
   * same round, right before the write (SPEC Guarantee 3) without a round of their own.
   */
  readonly onServed?: () => void;
}

export interface ResolveOptions {
  /** `referrers` keeps them like `keep`, and reads each Docker attestation in the round that checks it. */
  readonly attestations: 'keep' | 'drop' | 'referrers';
  readonly platforms: readonly Platform[] | undefined;
  /**
   * Whether the images of index sources have their configs read for their labels (an image source's config is
   * read anyway, for its platform). Not when the index will be a Docker manifest list, which takes no labels.
   */
  readonly labels: boolean;
}

/**
 * Resolves every source given by tag, once and in parallel, and pins it to the digest the tag holds now: the rest
 * of the run reads only that digest, whatever the tag does meanwhile. A tag not there yet is waited for, as a
 * digest would be.
 */
export async function pinSources(
  sources: readonly SourceInput[],
  context: RunContext & { readonly wait: ConsistencyWait },
): Promise<SourceEntry[]> {
  const { client, log, deadline, wait } = context;
  const pinned = await Promise.all(
    sources.map(async (source): Promise<SourceEntry> => {
      if (!isTagged(source)) return source;
      const ref = tagRef(source.repository, source.tag);
      let reported = false;
      let digest: Digest;
      try {
        ({ digest } = await client.headManifest(source.repository, source.tag, {
          deadline,
          untilFound: true,
          onRetry: (error) => {
            if (!isLag(error) || reported) return;
            reported = true;
            log.info(wait.notServedLine(source.repository, ref, error));
          },
        }));
      } catch (error) {
        if (!isLag(error)) throw error;
        throw new Error(
          `sources: "${source.text}": ${ref} does not exist, still after wait-timeout (${errorMessage(error)}). ` +
            'Check the repository and tag, or give the digest',
        );
      }
      log.info(`${source.text}: ${ref} is ${digest}; pinned to it for this run`);
      return {
        text: source.text,
        repository: source.repository,
        digest,
        pinnedFrom: ref,
        ...(source.platform ? { platform: source.platform } : {}),
      };
    }),
  );
  return dedupeSources(pinned);
}

/**
 * Reads every source (in parallel) and returns one image per platform, each with its attestations. Any other
 * error ends the run at once; sources still not served at the deadline are named together, every one of them.
 */
export async function resolveSources(
  sources: readonly SourceEntry[],
  options: ResolveOptions,
  context: ResolveContext,
): Promise<PlatformImage[]> {
  const manifests = await whenAllServed(sources, (source) => servedManifest(source, context));
  context.onServed?.();
  const perSource = await Promise.all(
    sources.map((source, i) => resolveManifest(source, manifests[i] as FetchedManifest, options, context)),
  );
  // The same image reached twice (listed directly and inside an index) is one image, attestations combined.
  const images = canonicalImages(perSource.flat());
  checkOnePerPlatform(images);
  if (options.platforms) checkExpectedPlatforms(images, options.platforms);
  return options.attestations === 'drop' ? images.map((image) => ({ ...image, attestations: [] })) : images;
}

/** Where a source is read: the image, unless a dry run left a foreign source where it is. */
function readFrom(source: SourceEntry, context: ResolveContext): Repository {
  return context.readFromSources ? source.repository : context.image;
}

/** Waits until the source is served, and reads it. */
async function servedManifest(source: SourceEntry, context: ResolveContext): Promise<FetchedManifest> {
  const from = readFrom(source, context);
  try {
    return await context.wait.manifest(from, source.digest);
  } catch (error) {
    if (!isLag(error)) throw error;
    throw new NotServedError(
      source,
      from,
      error,
      `sources: "${source.text}": ${canonicalName(from)} still does not serve ${source.digest} after ` +
        `wait-timeout (${errorMessage(error)}). Check that the build pushed this digest to ${canonicalName(from)}, ` +
        'or raise wait-timeout if the registry is slow',
    );
  }
}

async function resolveManifest(
  source: SourceEntry,
  manifest: FetchedManifest,
  options: ResolveOptions,
  context: ResolveContext,
): Promise<PlatformImage[]> {
  const { mediaType } = manifest.descriptor;
  if (isIndexMediaType(mediaType)) return resolveIndex(source, manifest, options, context);
  if (isImageMediaType(mediaType)) return [await resolveImage(source, manifest, context)];
  throw new Error(`sources: "${source.text}" is a ${mediaType}, not an image manifest or index`);
}

async function resolveImage(
  source: SourceEntry,
  manifest: FetchedManifest,
  context: ResolveContext,
): Promise<PlatformImage> {
  const configRef = manifest.json['config'] as { digest?: unknown; mediaType?: unknown } | undefined;
  if (
    manifest.json['artifactType'] !== undefined ||
    typeof configRef?.digest !== 'string' ||
    !isDigest(configRef.digest)
  ) {
    throw new Error(
      `sources: "${source.text}" is an artifact, not a runnable image: give the image's digest`,
    );
  }
  const configDigest = configRef.digest;
  const config = await readConfig(readFrom(source, context), configDigest, context);
  const platform = platformOf(source, config, `its image config ${configDigest}`);
  if (!platform) {
    throw new Error(
      `sources: "${source.text}" has an image config without os and architecture; it cannot be indexed`,
    );
  }
  if (platform.os === 'unknown' || platform.architecture === 'unknown') {
    throw new Error(
      `sources: "${source.text}" is an attestation manifest (unknown/unknown): give the image's digest`,
    );
  }
  checkAsserted(source, platform);
  return {
    descriptor: {
      mediaType: manifest.descriptor.mediaType,
      digest: source.digest,
      size: manifest.bytes.length,
      platform,
    },
    attestations: [],
    source: source.text,
    labels: indexLabelsOf(config),
  };
}

/** An image config as JSON (undefined when it is not JSON): its platform and labels are read from it. */
async function readConfig(from: Repository, digest: Digest, context: RunContext): Promise<unknown> {
  const bytes = await context.client.getBlob(from, digest, MAX_MANIFEST_BYTES, {
    deadline: context.deadline,
    untilFound: true,
  });
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The labels of an index's image child, from its config: none when the manifest names no config. */
async function labelsOfChild(
  from: Repository,
  manifest: FetchedManifest,
  context: RunContext,
): Promise<PlatformImage['labels']> {
  const configRef = manifest.json['config'] as { digest?: unknown } | undefined;
  if (typeof configRef?.digest !== 'string' || !isDigest(configRef.digest)) return {};
  return indexLabelsOf(await readConfig(from, configRef.digest, context));
}

/** An index contributes its platform manifests, each followed by the attestations that point at it. */
async function resolveIndex(
  source: SourceEntry,
  manifest: FetchedManifest,
  options: ResolveOptions,
  context: ResolveContext,
): Promise<PlatformImage[]> {
  const children = parseChildren(source, manifest.json['manifests']);
  const from = readFrom(source, context);
  const labels = new Map<string, PlatformImage['labels']>();
  // Every child must be served before an index naming it can be written. Artifact attestations (newer
  // BuildKit) name their image only in their own `subject`, so those are read rather than just checked; so are
  // images whose labels may go on the index, with their configs, all in this one parallel round.
  const subjects = await Promise.all(
    children.map(async (child) => {
      try {
        if (options.labels && isImageMediaType(child.mediaType) && isPlatformEntry(child)) {
          const manifest = await context.wait.manifest(from, child.digest);
          checkServed(source, child, manifest.descriptor, from);
          labels.set(child.digest, await labelsOfChild(from, manifest, context));
          return undefined;
        }
        if (!isArtifactAttestation(child)) {
          // An attestation to be stored as a referrer is read now (the read is kept), not only checked.
          const read =
            options.attestations === 'referrers' &&
            child.annotations?.[REFERENCE_TYPE] === ATTESTATION_MANIFEST;
          const served = read
            ? (await context.wait.manifest(from, child.digest)).descriptor
            : await context.wait.head(from, child.digest);
          checkServed(source, child, served, from);
          return undefined;
        }
        const manifest = await context.wait.manifest(from, child.digest);
        checkServed(source, child, manifest.descriptor, from);
        const subject = manifest.json['subject'] as { digest?: unknown } | undefined;
        return typeof subject?.digest === 'string' && isDigest(subject.digest) ? subject.digest : '';
      } catch (error) {
        if (!isLag(error)) throw error;
        throw new Error(
          `sources: "${source.text}" lists ${child.digest}, which ${canonicalName(from)} still does not ` +
            `serve after wait-timeout (${errorMessage(error)}); push the whole index to the image`,
        );
      }
    }),
  );
  const attestations = new Map<string, Descriptor[]>();
  const images: PlatformImage[] = [];
  children.forEach((child, i) => {
    const annotations = child.annotations ?? {};
    const named = annotations[REFERENCE_DIGEST];
    const subject =
      annotations[REFERENCE_TYPE] === ATTESTATION_MANIFEST
        ? named !== undefined && isDigest(named)
          ? named
          : ''
        : subjects[i];
    if (subject !== undefined) {
      attestations.set(subject, [...(attestations.get(subject) ?? []), child]);
      return;
    }
    if (isIndexMediaType(child.mediaType)) throw nestedIndexError(source, child.digest);
    const platform = child.platform;
    if (!platform || platform.os === 'unknown') {
      throw new Error(
        `sources: "${source.text}" lists ${child.digest} without a platform; it cannot be indexed`,
      );
    }
    checkAsserted(source, platform);
    const read = labels.get(child.digest);
    images.push({
      descriptor: { ...child, platform },
      attestations: [],
      source: source.text,
      ...(read ? { labels: read } : {}),
    });
  });
  if (images.length === 0) throw new Error(`sources: "${source.text}" is an index with no platform images`);
  for (const subject of attestations.keys()) {
    if (!images.some((image) => image.descriptor.digest === subject)) {
      context.log.warning(
        `"${source.text}" has attestations for ${subject || 'no image'}, which it does not contain; they are left out`,
        'Attestation without its image',
      );
    }
  }
  return images.map((image) => ({ ...image, attestations: attestations.get(image.descriptor.digest) ?? [] }));
}

/** An index inside an index: refused (by resolve, and by transfer before it copies anything). */
export function nestedIndexError(source: SourceEntry, digest: string): Error {
  return new Error(
    `sources: "${source.text}" nests another index (${digest}); give that index's digest instead`,
  );
}

/** An entry that names a runnable platform and is not a Docker attestation manifest. */
function isPlatformEntry(child: Descriptor): boolean {
  return (
    child.platform !== undefined &&
    child.platform.os !== 'unknown' &&
    child.annotations?.[REFERENCE_TYPE] !== ATTESTATION_MANIFEST
  );
}

/** An attestation stored as an OCI artifact: typed, without a runnable platform, and not Docker-annotated. */
function isArtifactAttestation(child: Descriptor): boolean {
  const unknown = !child.platform || child.platform.os === 'unknown';
  return unknown && child.artifactType !== undefined && child.annotations?.[REFERENCE_TYPE] === undefined;
}

function parseChildren(source: SourceEntry, value: unknown): Descriptor[] {
  if (!Array.isArray(value))
    throw new Error(`sources: "${source.text}" is an index without a manifests list`);
  return value.map((raw: unknown) => {
    const descriptor = parseDescriptor(raw);
    if (!descriptor) {
      throw new Error(
        `sources: "${source.text}" has a malformed descriptor in its manifests list (a media type, digest or size ` +
          'that is not valid): rebuild and push the index',
      );
    }
    const platform = platformOf(
      source,
      (raw as Record<string, unknown>)['platform'],
      `the entry ${descriptor.digest}`,
    );
    return { ...descriptor, ...(platform ? { platform } : {}) };
  });
}

/** Reads a platform from registry content, naming the source and where the bad field was. */
function platformOf(source: SourceEntry, value: unknown, where: string): Platform | undefined {
  try {
    return platformFrom(value);
  } catch (error) {
    if (!(error instanceof InvalidPlatformError)) throw error;
    throw new Error(
      `sources: "${source.text}": ${where} has an invalid platform: ${error.message}. The registry serves ` +
        'content no build tool writes; rebuild and push the image',
    );
  }
}

/**
 * A child descriptor copied from a source index must describe what the registry serves: the same size and
 * (where the registry names a manifest type) the same media type, or the published index would be wrong.
 */
function checkServed(source: SourceEntry, child: Descriptor, served: Descriptor, from: Repository) {
  const typed = isManifestMediaType(served.mediaType);
  if (served.size === child.size && (!typed || served.mediaType === child.mediaType)) return;
  throw new Error(
    `sources: "${source.text}" lists ${child.digest} as ${child.mediaType}, ${child.size} bytes, but ` +
      `${canonicalName(from)} serves it as ${typed ? served.mediaType : 'that digest'}, ${served.size} bytes: the ` +
      'index is inconsistent; rebuild and push it',
  );
}

function checkAsserted(source: SourceEntry, actual: Platform): void {
  if (source.platform && !platformMatches(source.platform, actual)) {
    throw new Error(
      `sources: "${source.text}" was given as ${platformKey(source.platform)}, but the image is ` +
        `${platformKey(actual)}: fix the platform prefix or the digest`,
    );
  }
}

function checkOnePerPlatform(images: readonly PlatformImage[]): void {
  const byKey = new Map<string, PlatformImage>();
  for (const image of images) {
    const key = platformKey(image.descriptor.platform);
    const other = byKey.get(key);
    if (other) {
      const [a, b] = [other, image].sort((x, y) => (x.descriptor.digest < y.descriptor.digest ? -1 : 1));
      throw new Error(
        `sources: two images for ${key}: ${a?.descriptor.digest} (from "${a?.source}") and ` +
          `${b?.descriptor.digest} (from "${b?.source}"); give one image per platform`,
      );
    }
    byKey.set(key, image);
  }
}

function checkExpectedPlatforms(images: readonly PlatformImage[], expected: readonly Platform[]): void {
  const missing = expected.filter(
    (p) => !images.some((image) => platformMatches(p, image.descriptor.platform)),
  );
  const unexpected = images.filter(
    (image) => !expected.some((p) => platformMatches(p, image.descriptor.platform)),
  );
  if (missing.length === 0 && unexpected.length === 0) return;
  const parts = [];
  if (missing.length) parts.push(`missing ${missing.map(platformKey).join(', ')}`);
  if (unexpected.length) {
    parts.push(
      `not expected ${unexpected.map((i) => `${platformKey(i.descriptor.platform)} (from "${i.source}")`).join(', ')}`,
    );
  }
  throw new Error(
    `platforms: the sources do not match ${expected.map(platformKey).join(',')}: ${parts.join('; ')}. ` +
      'Fix the sources or the platforms input; nothing was written',
  );
}
