import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { FetchedManifest, RegistryClient } from './client.js';
import { type Descriptor, isMediaType, isStringRecord, parseDescriptor } from './descriptor.js';
import { type Digest, digestOf, isDigest } from './digest.js';
import { isLag } from './errors.js';
import { isIndexMediaType, isManifestMediaType, OCI_INDEX } from './media-types.js';
import { canonicalName, type Repository, tagRef } from './reference.js';
import { withRetry } from './retry.js';

/**
 * OCI referrers (distribution spec 1.1), the one home for finding and storing them: the manifests whose `subject`
 * is a digest (signatures, SBOMs, attestations). Found through the registry's referrers API
 * (`GET /v2/<name>/referrers/<digest>`, an OCI index of them) where it has one, which a 404 there says it has not,
 * else through the fallback tag `<alg>-<hex>` holding such an index. Stored by digest first; a registry whose PUT
 * answer carries `OCI-Subject` indexed it itself, any other gets the fallback tag updated as a careful writer does:
 * read, merge in, write, read back, and merge again if another writer replaced it meanwhile (ADR 0009).
 */

/** What finding and storing referrers works with: a RunContext has all of it. */
export interface ReferrerContext {
  readonly client: RegistryClient;
  readonly clock: Clock;
  readonly log: Logger;
  /** Clock time that bounds every request and wait. */
  readonly deadline: number;
}

/** How referrers were found or stored: the registry's referrers API, or the fallback tag. */
export type ReferrersVia = 'api' | 'tag';

export interface Referrers {
  readonly via: ReferrersVia;
  /** Each referrer's descriptor as the list gives it (artifactType and annotations included), by digest. */
  readonly descriptors: readonly Descriptor[];
}

/** Most referrers of one subject taken from a list: far beyond any real signing setup, bounding hostile lists. */
export const MAX_REFERRERS = 1000;
/** How often the fallback tag is read and merged again when other writers keep replacing it. */
const MAX_MERGES = 6;
/** How long after a fallback tag write it is read again, to catch a writer that raced ours (as forward tags do). */
export const SETTLE_MS = 1_000;

/** The fallback tag of the OCI referrers tag schema: `<alg>-<hex>`, the hex cut at 64 characters. */
export function fallbackTag(subject: Digest): string {
  const [algorithm, hex = ''] = subject.split(':');
  return `${algorithm}-${hex.slice(0, 64)}`;
}

/** The referrers of `subject` in `repository`: by the referrers API where the registry has it, else the fallback tag. */
export async function findReferrers(
  repository: Repository,
  subject: Digest,
  context: ReferrerContext,
): Promise<Referrers> {
  const { client, deadline } = context;
  const pages = await client.getReferrers(repository, subject, { deadline });
  const where = `${canonicalName(repository)}@${subject}`;
  if (pages !== undefined) {
    const what = `the referrers of ${where}`;
    const raw = pages.flatMap((page) => manifestsOf(parseObject(page, what), what));
    // Counted before each entry is looked at, as for a fallback tag: a page of junk entries is one error, not a
    // warning each.
    if (raw.length > MAX_REFERRERS) {
      throw tooMany(what);
    }
    return { via: 'api', descriptors: normalise(listed(raw, what, context.log), what) };
  }
  const held = await readFallbackTag(repository, subject, context);
  if (held.digest === undefined) return { via: 'tag', descriptors: [] };
  const tag = tagRef(repository, fallbackTag(subject));
  return { via: 'tag', descriptors: normalise(listed(held.entries, tag, context.log), tag) };
}

/** A manifest to store as a referrer: its exact bytes and media type; it names its subject itself. */
export interface ReferrerManifest {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
}

export interface StoredReferrer {
  /** The descriptor a referrers list gives it. */
  readonly descriptor: Descriptor;
  readonly subject: Digest;
  /** `api`: the registry indexed it (OCI-Subject); `tag`: it is listed in the subject's fallback tag. */
  readonly via: ReferrersVia;
}

/**
 * Stores referrer manifests in `repository` by digest, whose blobs (or, for an index, children) are there already.
 * Writes no tag: those the registry did not index itself (no `OCI-Subject` answer) come back `via: 'tag'`, to be
 * listed in their subjects' fallback tags by `listInFallbackTags` once the run has decided to write its tags.
 */
export async function storeReferrers(
  repository: Repository,
  manifests: readonly ReferrerManifest[],
  context: ReferrerContext,
): Promise<StoredReferrer[]> {
  const { client, deadline } = context;
  return Promise.all(
    manifests.map(async (manifest): Promise<StoredReferrer> => {
      const { descriptor, subject } = referrerOf(manifest, canonicalName(repository));
      const answer = await client.putManifest(
        repository,
        descriptor.digest,
        manifest.bytes,
        manifest.mediaType,
        { deadline, untilFound: true },
      );
      return { descriptor, subject, via: answer.subject === subject ? 'api' : 'tag' };
    }),
  );
}

/** A fallback tag that could not be updated, and why. */
export interface FallbackFailure {
  readonly tag: string;
  readonly reason: string;
}

/**
 * Lists stored referrers that the registry did not index itself in their subjects' fallback tags: each subject's
 * tag updated once with all of its referrers (whichever source they came from), referrers already listed there
 * kept. Every tag is tried; those that could not be updated are returned, not thrown.
 */
export async function listInFallbackTags(
  repository: Repository,
  stored: readonly StoredReferrer[],
  context: ReferrerContext,
): Promise<FallbackFailure[]> {
  const bySubject = new Map<Digest, Map<Digest, Descriptor>>();
  for (const { descriptor, subject, via } of stored) {
    if (via !== 'tag') continue;
    const listed = bySubject.get(subject) ?? new Map<Digest, Descriptor>();
    listed.set(descriptor.digest, descriptor);
    bySubject.set(subject, listed);
  }
  const failures = await Promise.all(
    [...bySubject].map(async ([subject, descriptors]) => {
      try {
        await addToFallbackTag(repository, subject, [...descriptors.values()], context);
        return [];
      } catch (error) {
        return [
          {
            tag: fallbackTag(subject),
            reason: `the referrers fallback tag of ${subject} was not updated: ${errorMessage(error)}`,
          },
        ];
      }
    }),
  );
  return failures.flat();
}

/**
 * The descriptor a referrers list gives a manifest (OCI distribution spec: `artifactType`, else the config's
 * media type; the manifest's annotations) and the subject it names; throws if it names none.
 */
export function referrerOf(
  manifest: ReferrerManifest,
  where: string,
): { descriptor: Descriptor; subject: Digest } {
  const digest = digestOf(manifest.bytes);
  const json = parseObject(manifest.bytes, `${where}@${digest}`);
  const subject = subjectOf(json);
  if (subject === undefined) {
    throw new Error(`${where}@${digest} has no valid subject: it is not a referrer`);
  }
  const config = (json['config'] as { mediaType?: unknown } | undefined)?.mediaType;
  const artifactType = typeof json['artifactType'] === 'string' ? json['artifactType'] : config;
  const annotations = json['annotations'];
  return {
    descriptor: {
      mediaType: manifest.mediaType,
      digest,
      size: manifest.bytes.length,
      ...(typeof artifactType === 'string' && isMediaType(artifactType) ? { artifactType } : {}),
      ...(isStringRecord(annotations) && Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    subject,
  };
}

/** The digest a manifest names as its `subject`, if a valid one. */
export function subjectOf(json: Record<string, unknown>): Digest | undefined {
  const subject = json['subject'];
  if (typeof subject !== 'object' || subject === null) return undefined;
  const digest = (subject as { digest?: unknown }).digest;
  return typeof digest === 'string' && isDigest(digest) ? digest : undefined;
}

/**
 * What a fallback tag holds now: its digest (undefined when there is no such tag), and its index's entries and
 * annotations as they are (other tools' entries, of any type, are kept as written when it is merged into).
 */
interface FallbackState {
  readonly digest: Digest | undefined;
  readonly entries: readonly unknown[];
  readonly annotations: unknown;
}

async function readFallbackTag(
  repository: Repository,
  subject: Digest,
  context: ReferrerContext,
): Promise<FallbackState> {
  const tag = fallbackTag(subject);
  let manifest: FetchedManifest;
  try {
    manifest = await context.client.getManifest(repository, tag, { deadline: context.deadline });
  } catch (error) {
    if (isLag(error)) return { digest: undefined, entries: [], annotations: undefined };
    throw error;
  }
  const where = tagRef(repository, tag);
  if (!isIndexMediaType(manifest.descriptor.mediaType)) {
    throw new Error(
      `${where} is the referrers fallback tag of ${subject} but holds a ${manifest.descriptor.mediaType}, not an ` +
        'index: something else wrote it; remove or retag it',
    );
  }
  const entries = manifestsOf(manifest.json, where);
  if (entries.length > MAX_REFERRERS) {
    throw tooMany(where);
  }
  return { digest: manifest.descriptor.digest, entries, annotations: manifest.json['annotations'] };
}

/**
 * The fallback tag's index with `added` merged in by digest: every entry it had kept exactly as it was (whatever
 * its type or fields), ours added, all ordered by digest (entries without one last, as they came), its own
 * annotations kept.
 */
function mergedIndex(held: FallbackState, added: readonly Descriptor[]): Uint8Array {
  const digestOfEntry = (entry: unknown) => {
    const digest = (entry as { digest?: unknown } | null)?.digest;
    return typeof digest === 'string' ? digest : undefined;
  };
  const entries = [...held.entries, ...added];
  const order = entries.map((entry, i) => ({ entry, i, digest: digestOfEntry(entry) }));
  order.sort((a, b) => {
    if (a.digest === b.digest) return a.i - b.i;
    if (a.digest === undefined) return 1;
    if (b.digest === undefined) return -1;
    return a.digest < b.digest ? -1 : 1;
  });
  const annotations = held.annotations;
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: order.map((o) => o.entry),
    ...(annotations !== undefined ? { annotations } : {}),
  };
  return new TextEncoder().encode(JSON.stringify(index));
}

/**
 * Merges `descriptors` into the subject's fallback tag: read, merge (kept referrers as they were, ordered by
 * digest), write, read back, and read again after SETTLE_MS. Another writer that replaced the tag in between, from
 * a list read before ours landed, is merged with again, never overwritten; no registry offers compare-and-swap on
 * tags, so this narrows the window rather than closing it.
 */
async function addToFallbackTag(
  repository: Repository,
  subject: Digest,
  descriptors: readonly Descriptor[],
  context: ReferrerContext,
): Promise<void> {
  const { client, clock, log, deadline } = context;
  const tag = fallbackTag(subject);
  const where = tagRef(repository, tag);
  let wrote = false;
  let settled = false;
  for (let attempt = 1; attempt <= MAX_MERGES; attempt++) {
    const held = await readFallbackTag(repository, subject, context);
    const known = new Set(held.entries.map((entry) => (entry as { digest?: unknown } | null)?.digest));
    const missing = descriptors.filter((d) => !known.has(d.digest));
    if (missing.length === 0) {
      if (!wrote || settled) return;
      await clock.sleep(Math.min(SETTLE_MS, Math.max(0, deadline - clock.now())));
      settled = true;
      continue;
    }
    if (wrote) log.info(`${where} was rewritten by another writer meanwhile; merging again`);
    if (held.entries.length + missing.length > MAX_REFERRERS) {
      throw new Error(
        `${where} would list more than ${MAX_REFERRERS} referrers; refusing to write that many`,
      );
    }
    const bytes = mergedIndex(held, missing);
    const digest = digestOf(bytes);
    await client.putManifest(repository, tag, bytes, OCI_INDEX, { deadline, untilFound: true });
    await readBackTag(repository, tag, digest, held.digest, context);
    log.info(`${where}: ${missing.length} referrer(s) added, ${held.entries.length} kept`);
    wrote = true;
    settled = false;
  }
  throw new Error(
    `${where}: other writers kept replacing the referrers fallback tag; ${descriptors.map((d) => d.digest).join(', ')} ` +
      'may be missing from it. Run again when they are done',
  );
}

/** The digest the tag serves once it no longer serves `before` (registry lag is waited out until the deadline). */
async function readBackTag(
  repository: Repository,
  tag: string,
  digest: Digest,
  before: Digest | undefined,
  context: ReferrerContext,
): Promise<Digest | undefined> {
  const { client, clock, deadline } = context;
  class Stale extends Error {}
  try {
    return await withRetry(
      async () => {
        let served: Digest | undefined;
        try {
          served = (await client.headManifest(repository, tag, { deadline })).digest;
        } catch (error) {
          if (!isLag(error)) throw error;
        }
        if (served !== digest && served === before) throw new Stale();
        return served;
      },
      { clock, deadline, retryable: (error) => error instanceof Stale },
    );
  } catch (error) {
    if (!(error instanceof Stale)) throw error;
    throw new Error(
      `${tagRef(repository, tag)} still serves ${before ?? 'nothing'} after wait-timeout, though ${digest} was written to it`,
    );
  }
}

function parseObject(bytes: Uint8Array, where: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new Error(`${where} is not JSON (${errorMessage(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${where} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function tooMany(where: string): Error {
  return new Error(`${where} lists more than ${MAX_REFERRERS} referrers; refusing to handle that many`);
}

/** An index's manifests list as it is; throws when it has none. */
function manifestsOf(json: Record<string, unknown>, where: string): unknown[] {
  const manifests = json['manifests'];
  if (!Array.isArray(manifests)) throw new Error(`${where} is not an index: it has no manifests list`);
  return manifests;
}

/**
 * The referrers an index lists. Entries that are not descriptors of a manifest this client reads (malformed, or a
 * type such as the withdrawn OCI artifact manifest) are left out with a warning: they cannot be copied.
 */
function listed(manifests: readonly unknown[], where: string, log: Logger): Descriptor[] {
  return manifests.flatMap((raw: unknown) => {
    const descriptor = parseDescriptor(raw);
    if (descriptor && isManifestMediaType(descriptor.mediaType)) return [descriptor];
    log.warning(
      `${where} lists an entry that is not an image manifest or index (${JSON.stringify(raw)?.slice(0, 200)}); it is not copied`,
      'Referrer left out',
    );
    return [];
  });
}

/** One descriptor per digest (the first given), ordered by digest, at most MAX_REFERRERS. */
function normalise(descriptors: readonly Descriptor[], where: string): Descriptor[] {
  const byDigest = new Map<Digest, Descriptor>();
  for (const d of descriptors) if (!byDigest.has(d.digest)) byDigest.set(d.digest, d);
  if (byDigest.size > MAX_REFERRERS) {
    throw tooMany(where);
  }
  return [...byDigest.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}
