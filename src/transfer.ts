import type { ConsistencyWait } from './consistency.js';
import type { RunContext } from './context.js';
import { errorMessage } from './errors.js';
import { NotServedError, whenAllServed } from './not-served.js';
import { once } from './once.js';
import type { FetchedManifest, RegistryClient, Upload } from './registry/client.js';
import { type Digest, isDigest } from './registry/digest.js';
import { isLag, RegistryError } from './registry/errors.js';
import { isIndexMediaType } from './registry/media-types.js';
import { canonicalName, type Repository } from './registry/reference.js';
import {
  findReferrers,
  MAX_REFERRERS,
  type Referrers,
  type StoredReferrer,
  storeReferrers,
  subjectOf,
} from './registry/referrers.js';
import { nestedIndexError } from './resolve.js';
import type { SourceEntry } from './sources.js';

export interface TransferContext extends RunContext {
  readonly wait: ConsistencyWait;
}

interface Tally {
  mounted: number;
  copied: number;
  present: number;
  referrers: number;
}

/**
 * What the referrers followed in one run add up to, across every image and source repository: distinct referrers
 * and their manifests' bytes, bounded so that a hostile graph of lists cannot fan out without end.
 */
export interface ReferrerBudget {
  readonly digests: Set<Digest>;
  bytes: number;
  /** Most bytes of referrer manifests the run follows. */
  readonly maxBytes: number;
}

/** Most bytes of referrer manifests one run follows: far beyond signatures and SBOM manifests of a real image. */
const MAX_REFERRER_BYTES = 64 * 1024 * 1024;

export function referrerBudget(maxBytes = MAX_REFERRER_BYTES): ReferrerBudget {
  return { digests: new Set(), bytes: 0, maxBytes };
}

/** One source being brought into one image. */
interface Copy {
  readonly source: SourceEntry;
  readonly to: Repository;
  readonly context: TransferContext;
  readonly moves: Moves;
}

/** What one bringIn shares across its sources: each manifest and each blob moves once. */
interface Moves {
  readonly manifests: Map<string, Promise<void>>;
  readonly blobs: Map<string, Promise<void>>;
  readonly tally: Tally;
  /** Whether a source that is an index is written too, or only what it lists. */
  readonly indexes: boolean;
  /** With `referrers: copy`: per subject, its referrers brought along (once each), and every referrer stored. */
  readonly referrers: Map<string, Promise<void>> | undefined;
  /** Per subject, its referrers as found in the source repository (looked up while the content moves). */
  readonly found: Map<string, Promise<Referrers>>;
  /** Every referrer stored in the image, by digest (once, whichever source repository it came from). */
  readonly stored: Map<string, Promise<StoredReferrer>>;
  /** Whether the referrers of a source index itself come along (it is published), or only its children's. */
  readonly indexReferrers: boolean;
  readonly budget: ReferrerBudget;
}

export interface BringOptions {
  /** Whether a source that is an index is written too (a promotion), or only what it lists (a merge). */
  readonly indexes: boolean;
  /** Bring the referrers of every source manifest (and of theirs), stored as referrers in the image. */
  readonly referrers: boolean;
  /**
   * Whether a source index's own referrers come too: only when the index is published (a promotion), which a merge
   * that writes the index into the image only to read it from there is not. Defaults to `indexes`.
   */
  readonly indexReferrers?: boolean;
  /** Shared by every bringIn of a run (else this bringIn's own). */
  readonly budget?: ReferrerBudget;
}

/** How deep referrers of referrers are followed: a signature of an SBOM of an image is 2. */
const MAX_REFERRER_DEPTH = 8;

/**
 * Brings sources that live in other repositories into the image, so the index can name them: every blob by
 * cross-repository mount where the registry is the same (else streamed across), then each manifest with its
 * exact bytes, leaves first and an index last. A blob or manifest shared by several sources moves once. With
 * `referrers`, the referrers of each source and of every manifest it lists come along (and theirs, recursively),
 * stored by digest in the image (src/registry/referrers.ts) and returned: listing them in fallback tags is left to
 * the publish, once the run has decided to write (Guarantee 4).
 */
export async function bringIn(
  sources: readonly SourceEntry[],
  image: Repository,
  context: TransferContext,
  options: BringOptions = { indexes: true, referrers: false },
): Promise<StoredReferrer[]> {
  const moves: Moves = {
    manifests: new Map(),
    blobs: new Map(),
    tally: { mounted: 0, copied: 0, present: 0, referrers: 0 },
    indexes: options.indexes,
    referrers: options.referrers ? new Map() : undefined,
    found: new Map(),
    stored: new Map(),
    indexReferrers: options.indexReferrers ?? options.indexes,
    budget: options.budget ?? referrerBudget(),
  };
  await whenAllServed(sources, async (source) => {
    try {
      const copy = { source, to: image, context, moves };
      // Referrers are looked up while the content moves, so a source without any costs no extra round trip.
      const subjects = moves.referrers ? lookUpReferrers(copy) : undefined;
      subjects?.catch(() => {});
      await copyManifest(copy, source.digest, true);
      if (subjects) await bringReferrers(copy, await subjects, 1);
    } catch (error) {
      if (!isLag(error)) throw error;
      throw new NotServedError(
        source,
        source.repository,
        error,
        `sources: "${source.text}": ${canonicalName(source.repository)} still does not serve it after ` +
          `wait-timeout (${errorMessage(error)}). Check the digest and repository, or raise wait-timeout`,
      );
    }
    context.log.info(`${source.text}: brought into ${canonicalName(image)}`);
  });
  const { tally } = moves;
  context.log.info(
    `blobs: ${tally.mounted} mounted, ${tally.copied} copied, ${tally.present} already there` +
      (moves.referrers ? `; referrers: ${tally.referrers} brought` : ''),
  );
  const stored = await Promise.all(moves.stored.values());
  return stored.sort((a, b) => (a.descriptor.digest < b.descriptor.digest ? -1 : 1));
}

/**
 * Whose referrers come along: the source, and every manifest an index lists (not the index when left behind).
 * Starts looking each one up at once.
 */
async function lookUpReferrers(copy: Copy): Promise<Digest[]> {
  const manifest = await copy.context.wait.manifest(copy.source.repository, copy.source.digest);
  const children = manifest.json['manifests'];
  const subjects = Array.isArray(children)
    ? [...(copy.moves.indexReferrers ? [copy.source.digest] : []), ...digestsOf(children)]
    : [copy.source.digest];
  // Awaited in bringReferrers; a failure shows there, not as an unhandled rejection meanwhile.
  for (const subject of subjects) referrersOf(copy, subject).catch(() => {});
  return subjects;
}

function referrersOf(copy: Copy, subject: Digest): Promise<Referrers> {
  const { source, context, moves } = copy;
  return once(moves.found, `${canonicalName(source.repository)}@${subject}`, () =>
    findReferrers(source.repository, subject, context),
  );
}

/**
 * Brings the referrers of `subjects` from the source's repository: each one's content first (blobs, or an index's
 * children), then the manifests stored as referrers of their subject in the image, then their own referrers. Only a
 * manifest whose own `subject` is the one asked about is taken (a list may name anything): a referrer's digest
 * covers its subject's, so the chain cannot come back to a digest already followed. Each subject is looked up once
 * per bringIn and never again from inside its own lookup (a list naming itself); depth is bounded all the same.
 */
async function bringReferrers(copy: Copy, subjects: readonly Digest[], depth: number): Promise<void> {
  const { source, to, context, moves } = copy;
  const seen = moves.referrers as Map<string, Promise<void>>;
  const keyOf = (subject: Digest) => `${canonicalName(source.repository)}@${subject}`;
  await Promise.all(
    subjects.map((subject) =>
      once(seen, keyOf(subject), async () => {
        const found = await referrersOf(copy, subject);
        if (found.descriptors.length === 0) return;
        charge(moves.budget, found.descriptors, copy);
        if (depth > MAX_REFERRER_DEPTH) {
          throw new Error(
            `${canonicalName(source.repository)}: referrers nest deeper than ${MAX_REFERRER_DEPTH} levels under ` +
              `${source.digest}; refusing to follow them (use referrers: skip)`,
          );
        }
        const manifests = await Promise.all(
          found.descriptors.map(async (d) => {
            const referrer = {
              ...copy,
              source: { ...source, text: `referrer ${d.digest}`, digest: d.digest },
            };
            // Read here, not through the run's cache of source manifests: a referrer is needed only until stored.
            const manifest = await context.client.getManifest(source.repository, d.digest, {
              deadline: context.deadline,
              untilFound: true,
            });
            // The budget counts the listed size: a list that understates it would stretch the budget.
            if (manifest.bytes.length !== d.size) {
              throw new Error(
                `${canonicalName(source.repository)}: referrer ${d.digest} is ${manifest.bytes.length} bytes, listed as ${d.size}`,
              );
            }
            const named = subjectOf(manifest.json);
            if (named !== subject) {
              context.log.warning(
                `${canonicalName(source.repository)}: ${d.digest} is listed as a referrer of ${subject} but names ` +
                  `${named ?? 'no valid subject'}; it is not copied`,
                'Referrer left out',
              );
              return undefined;
            }
            return copyContent(referrer, d.digest, true, manifest);
          }),
        );
        const taken = manifests.filter((m): m is FetchedManifest => m !== undefined);
        const stored = await Promise.all(
          taken.map((m) =>
            once(moves.stored, m.descriptor.digest, async () => {
              const [one] = await storeReferrers(
                to,
                [{ bytes: m.bytes, mediaType: m.descriptor.mediaType }],
                context,
              );
              moves.tally.referrers += 1;
              return one as StoredReferrer;
            }),
          ),
        );
        const next = stored.map((s) => s.descriptor.digest).filter((digest) => !seen.has(keyOf(digest)));
        await bringReferrers(copy, next, depth + 1);
      }),
    ),
  );
}

/** Counts referrers about to be followed against the run's budget; refuses past it. */
function charge(
  budget: ReferrerBudget,
  descriptors: readonly { digest: Digest; size: number }[],
  copy: Copy,
) {
  for (const { digest, size } of descriptors) {
    if (budget.digests.has(digest)) continue;
    budget.digests.add(digest);
    budget.bytes += size;
  }
  const where = `${canonicalName(copy.source.repository)}: `;
  if (budget.digests.size > MAX_REFERRERS) {
    throw new Error(
      `${where}more than ${MAX_REFERRERS} referrers in this run (under ${copy.source.digest}); refusing to copy that many (use referrers: skip)`,
    );
  }
  if (budget.bytes > budget.maxBytes) {
    throw new Error(
      `${where}referrer manifests of more than ${budget.maxBytes / 1024 / 1024} MiB in this run (under ${copy.source.digest}); refusing to copy that much (use referrers: skip)`,
    );
  }
}

/** Copies one manifest (its blobs or, for an index, its entries first), once per source repository and digest. */
function copyManifest(copy: Copy, digest: Digest, top: boolean): Promise<void> {
  const key = `${canonicalName(copy.source.repository)}@${digest}`;
  return once(copy.moves.manifests, key, () => copyManifestBody(copy, digest, top));
}

async function copyManifestBody(copy: Copy, digest: Digest, top: boolean): Promise<void> {
  const { to, context, moves } = copy;
  const manifest = await copyContent(copy, digest, top);
  const json = manifest.json;
  if (isIndexMediaType(manifest.descriptor.mediaType) && !moves.indexes) return;
  try {
    await context.client.putManifest(to, digest, manifest.bytes, manifest.descriptor.mediaType, {
      deadline: context.deadline,
      untilFound: true,
    });
  } catch (error) {
    throw withoutMediaTypeHint(error, json, digest);
  }
}

/** Brings what a manifest names into the image (an index's children, an image's blobs), and returns it unwritten. */
async function copyContent(
  copy: Copy,
  digest: Digest,
  top: boolean,
  read?: FetchedManifest,
): Promise<FetchedManifest> {
  const { source, to, context, moves } = copy;
  const from = source.repository;
  const manifest = read ?? (await context.wait.manifest(from, digest));
  const json = manifest.json;
  if (isIndexMediaType(manifest.descriptor.mediaType)) {
    // Only the source itself may be an index: a nested one is refused before anything is copied, as resolve
    // would, by the media types the index gives its entries (a child read later would race its siblings' copies).
    if (!top) throw nestedIndexError(source, digest);
    const children = Array.isArray(json['manifests'])
      ? (json['manifests'] as { digest?: unknown; mediaType?: unknown }[])
      : [];
    const nested = children.find(
      (child) => typeof child?.mediaType === 'string' && isIndexMediaType(child.mediaType),
    );
    if (nested) throw nestedIndexError(source, String(nested.digest));
    await Promise.all(digestsOf(children).map((child) => copyManifest(copy, child, false)));
  } else {
    const layers = Array.isArray(json['layers'])
      ? (json['layers'] as { digest?: unknown; urls?: unknown }[])
      : [];
    // Non-distributable layers (with `urls`) are fetched from those URLs by clients, not from the registry.
    const distributable = layers.filter((layer) => layer?.urls === undefined);
    const needed = digestsOf([json['config'] as { digest?: unknown }, ...distributable]);
    await Promise.all(
      needed.map((blob) => {
        return once(moves.blobs, blob, () => copyBlob(from, to, blob, context, moves.tally));
      }),
    );
  }
  return manifest;
}

/**
 * A copied manifest is written byte for byte (its digest must not change), so one without the top-level
 * `mediaType` (optional in the OCI spec) stays without it, and registries that require it, ECR among them, refuse
 * it: say so, since their message ("Invalid JSON syntax") does not.
 */
function withoutMediaTypeHint(error: unknown, json: Record<string, unknown>, digest: Digest): unknown {
  if (!(error instanceof RegistryError) || error.status < 400 || error.status >= 500) return error;
  if (json['mediaType'] !== undefined) return error;
  return new Error(
    `${error.message}. The manifest ${digest} has no top-level "mediaType", which the OCI spec allows and this ` +
      'registry requires (ECR does); it is copied byte for byte, so it cannot be added here: rebuild the source ' +
      'with a tool that writes the field (docker buildx does), or push it to this registry directly',
    { cause: error },
  );
}

async function copyBlob(
  from: Repository,
  to: Repository,
  digest: Digest,
  context: TransferContext,
  tally: Tally,
) {
  const { client, deadline } = context;
  let upload: Upload | undefined;
  if (from.endpoint === to.endpoint) {
    // A mount of a blob the target already has answers 201 too, so no HEAD first.
    const mount = await client.mountBlob(to, digest, from, { deadline });
    if (mount.mounted) {
      tally.mounted += 1;
      return;
    }
    upload = mount.upload;
  } else if (await isPresent(client, to, digest, deadline)) {
    tally.present += 1;
    return;
  }
  await client.copyBlob(from, to, digest, { deadline }, upload);
  tally.copied += 1;
}

/** Whether the target has the blob already; only "not there" (404) means copy, any other failure is raised. */
async function isPresent(client: RegistryClient, to: Repository, digest: Digest, deadline: number) {
  try {
    await client.headBlob(to, digest, { deadline });
    return true;
  } catch (error) {
    if (isLag(error)) return false;
    throw error;
  }
}

function digestsOf(descriptors: readonly ({ digest?: unknown } | undefined)[]): Digest[] {
  return descriptors.flatMap((d) => (typeof d?.digest === 'string' && isDigest(d.digest) ? [d.digest] : []));
}
