import { type AssembledIndex, type AssembleOptions, assemble, type MediaTypeChoice } from './assemble.js';
import type { RunContext } from './context.js';
import { errorMessage } from './errors.js';
import { ORDER_ANNOTATION, type Order, type Ordering } from './ordering.js';
import { platformFrom, platformKey } from './platform.js';
import type { PlatformImage } from './platform-images.js';
import type { Descriptor } from './registry/descriptor.js';
import { type Digest, isDigest } from './registry/digest.js';
import { isIndexMediaType } from './registry/media-types.js';
import { type Repository, tagRef } from './registry/reference.js';
import { ReplacedTag, readBack, readTag, writeTag } from './tag-io.js';

/**
 * `if-tag-exists: forward` (SPEC "Tags that only move forward"): a tag moves only to something newer; an index
 * of the same revision is merged with ours (the union of platforms, the lower digest winning a shared platform);
 * after the write a settle re-check rewrites a tag a concurrent writer moved backwards or that lost our platforms,
 * so concurrent runs converge without compare-and-swap (ADR 0006).
 */

/** How long to wait before re-reading the tags, and how often a tag is rewritten at most. */
export const SETTLE_MS = 1_000;
export const MAX_SETTLE_ROUNDS = 3;

/** Per tag: what it held, what it holds now, and why. */
export interface ForwardNote {
  readonly tag: string;
  readonly held: Digest | undefined;
  readonly now: Digest | undefined;
  readonly why: string;
  /** True when the tag serves our index or a union holding our platforms. */
  readonly serves: boolean;
  /** Why the tag could not be moved forward, when it failed. */
  readonly failure?: string;
  /** The index the tag serves when it serves ours within another (a same-revision union), for the outputs. */
  readonly union?: AssembledIndex;
}

export interface ForwardRun {
  readonly image: Repository;
  readonly index: AssembledIndex;
  readonly images: readonly PlatformImage[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly mediaType: MediaTypeChoice;
  readonly descriptorAnnotations?: AssembleOptions['descriptorAnnotations'];
  /** The labels our platforms agree on (AssembleOptions.labels). */
  readonly labels?: AssembleOptions['labels'];
  readonly ordering: Ordering;
}

/** What to do with one tag, decided on what it holds now. */
type Decision =
  | { readonly write: AssembledIndex; readonly why: string }
  | { readonly leave: true; readonly why: string; readonly serves: boolean; readonly union?: AssembledIndex };

/**
 * Moves the tags forward, then re-checks after SETTLE_MS, rewriting what went backwards, up to MAX_SETTLE_ROUNDS.
 * `states` is what each tag held right before (undefined: no tag).
 */
export async function forwardTags(
  run: ForwardRun,
  states: ReadonlyMap<string, Digest | undefined>,
  options: { readonly context: RunContext; readonly dryRun: boolean },
): Promise<ForwardNote[]> {
  return Promise.all(
    [...states].map(([tag, held]) =>
      settleTag(run, tag, held, options).catch(
        (error: unknown): ForwardNote => ({
          tag,
          held,
          now: held,
          why: '',
          serves: false,
          failure: errorMessage(error),
        }),
      ),
    ),
  );
}

async function settleTag(
  run: ForwardRun,
  tag: string,
  held: Digest | undefined,
  options: { readonly context: RunContext; readonly dryRun: boolean },
): Promise<ForwardNote> {
  const { context } = options;
  const { client, clock, log, deadline } = context;
  let current = held;
  let note: ForwardNote = { tag, held, now: held, why: '', serves: false };
  for (let round = 0; round <= MAX_SETTLE_ROUNDS; round++) {
    const decision = await decide(run, tag, current, context);
    if ('write' in decision && options.dryRun) {
      log.info(`dry run: would write ${tagRef(run.image, tag)} -> ${decision.write.digest}: ${decision.why}`);
      return { tag, held, now: decision.write.digest, why: decision.why, serves: true };
    }
    if ('leave' in decision) {
      log.info(`${tagRef(run.image, tag)}: ${decision.why}`);
      const why = round ? `${note.why}; then ${decision.why}` : decision.why;
      return {
        tag,
        held,
        now: current,
        why,
        serves: decision.serves,
        ...(decision.union ? { union: decision.union } : {}),
      };
    }
    await writeTag(run.image, tag, decision.write, context);
    try {
      await readBack(run.image, tag, decision.write.digest, current, context);
    } catch (error) {
      // A concurrent writer landed right after us: decide again on what it wrote.
      if (!(error instanceof ReplacedTag)) throw error;
      note = { tag, held, now: error.served, why: `${decision.why}, then replaced at once`, serves: false };
      current = error.served;
      continue;
    }
    log.info(`${tagRef(run.image, tag)} -> ${decision.write.digest}: ${decision.why}`);
    note = {
      tag,
      held,
      now: decision.write.digest,
      why: round ? `${note.why}; rewritten: ${decision.why}` : decision.why,
      serves: true,
      ...(decision.write.digest !== run.index.digest ? { union: decision.write } : {}),
    };
    if (round === MAX_SETTLE_ROUNDS) break;
    // No registry offers compare-and-swap: look again once concurrent writers had time to land.
    await clock.sleep(Math.min(SETTLE_MS, Math.max(0, deadline - clock.now())));
    const seen = await readTag(client, run.image, tag, deadline);
    if (seen === decision.write.digest) return note;
    current = seen;
  }
  return note;
}

/** Decides on what the tag holds now; reads that index when it is not ours. */
async function decide(
  run: ForwardRun,
  tag: string,
  current: Digest | undefined,
  context: RunContext,
): Promise<Decision> {
  const key = ORDER_ANNOTATION[run.ordering.orderBy];
  if (current === undefined) return { write: run.index, why: 'a new tag' };
  if (current === run.index.digest) return { leave: true, why: `already holds ${current}`, serves: true };
  const theirs = await context.client.getManifest(run.image, current, { deadline: context.deadline });
  const isIndex = isIndexMediaType(theirs.descriptor.mediaType);
  const annotations = isIndex ? stringRecord(theirs.json['annotations']) : {};
  const ours = run.annotations[key] as string;
  let order: Order;
  try {
    order = await run.ordering.compare(ours, annotations[key]);
  } catch (error) {
    throw new Error(
      `if-tag-exists: forward could not order ${tagRef(run.image, tag)}: ${errorMessage(error)}`,
    );
  }
  switch (order) {
    case 'newer':
      return { write: run.index, why: `${key} ${ours} is newer than ${annotations[key]}` };
    case 'unmarked':
      return { write: run.index, why: `it held ${current}, an index without ${key}: counted as older` };
    case 'older':
      return {
        leave: true,
        why: `left at ${current}: its ${key} ${annotations[key]} is newer`,
        serves: false,
      };
    case 'diverged':
      return {
        leave: true,
        why: `left at ${current}: its ${key} ${annotations[key]} has diverged from ours`,
        serves: false,
      };
    case 'same': {
      const other = otherBuild(run, annotations);
      if (other !== undefined)
        return {
          leave: true,
          why: `left at ${current}: the same ${key} ${annotations[key]}, but built from ${ORDER_ANNOTATION.revision} ${other}, not ours`,
          serves: false,
        };
      const union = unionOf(run, imagesOfIndex(theirs.json), annotations);
      if (union.digest === current)
        return { leave: true, why: 'already holds every platform of this revision', serves: true, union };
      return { write: union, why: `same ${key}: the union of both indexes' platforms` };
    }
  }
}

/**
 * The tag's revision when its index is another build of the same version or time: both name the commit they were
 * built from, and the commits differ. Uniting those would mix two builds' platforms in one index.
 */
function otherBuild(run: ForwardRun, theirs: Readonly<Record<string, string>>): string | undefined {
  if (run.ordering.orderBy === 'revision') return undefined;
  const key = ORDER_ANNOTATION.revision;
  const ours = run.annotations[key];
  const other = theirs[key];
  if (ours === undefined || other === undefined || ours.toLowerCase() === other.toLowerCase())
    return undefined;
  return other;
}

/**
 * The union of our images and the tag's: per platform the lower digest wins, so the result does not depend on
 * which run came first; annotations merged, the lower value winning a key both set differently.
 */
export function unionOf(
  run: ForwardRun,
  theirs: readonly PlatformImage[],
  theirAnnotations: Readonly<Record<string, string>>,
): AssembledIndex {
  const byPlatform = new Map<string, PlatformImage>();
  for (const image of [...run.images, ...theirs]) {
    const key = platformKey(image.descriptor.platform);
    const seen = byPlatform.get(key);
    if (!seen || image.descriptor.digest < seen.descriptor.digest) byPlatform.set(key, image);
  }
  const annotations = new Map(Object.entries(theirAnnotations));
  // A forward index always carries its order annotation, so it is an OCI index and our labels are annotations
  // too: merged like them, so the union is the same whichever run wrote first.
  for (const [key, value] of Object.entries({ ...run.labels, ...run.annotations })) {
    const other = annotations.get(key);
    if (other === undefined || value < other) annotations.set(key, value);
  }
  return assemble([...byPlatform.values()], {
    mediaType: run.mediaType,
    annotations: Object.fromEntries(annotations),
    ...(run.descriptorAnnotations ? { descriptorAnnotations: run.descriptorAnnotations } : {}),
  });
}

/**
 * The platform images an index lists, each with the attestation manifests that name it (Docker's annotations).
 * Entries without a platform that are not such attestations (artifact attestations) are not carried into a union.
 */
export function imagesOfIndex(json: Record<string, unknown>): PlatformImage[] {
  const entries = Array.isArray(json['manifests']) ? (json['manifests'] as unknown[]) : [];
  const images = new Map<string, { descriptor: Descriptor; attestations: Descriptor[] }>();
  const attestations: Descriptor[] = [];
  for (const raw of entries) {
    const descriptor = descriptorOf(raw);
    if (!descriptor) continue;
    if (descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') {
      attestations.push(descriptor);
    } else if (descriptor.platform && descriptor.platform.os !== 'unknown') {
      images.set(descriptor.digest, { descriptor, attestations: [] });
    }
  }
  for (const attestation of attestations) {
    images
      .get(attestation.annotations?.['vnd.docker.reference.digest'] ?? '')
      ?.attestations.push(attestation);
  }
  return [...images.values()].map(({ descriptor, attestations: list }) => ({
    descriptor: descriptor as PlatformImage['descriptor'],
    attestations: list,
    source: 'the tag',
  }));
}

function descriptorOf(raw: unknown): Descriptor | undefined {
  const d = (raw ?? {}) as Record<string, unknown>;
  const { mediaType, digest, size } = d;
  if (typeof mediaType !== 'string' || typeof digest !== 'string' || !isDigest(digest)) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  let platform: ReturnType<typeof platformFrom>;
  try {
    platform = platformFrom(d['platform']);
  } catch {
    return undefined;
  }
  const annotations = stringRecord(d['annotations']);
  return {
    mediaType,
    digest,
    size,
    ...(platform ? { platform } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(typeof d['artifactType'] === 'string' ? { artifactType: d['artifactType'] } : {}),
  };
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
