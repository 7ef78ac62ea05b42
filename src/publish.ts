import type { AssembledIndex } from './assemble.js';
import type { RunContext } from './context.js';
import { errorMessage } from './errors.js';
import { type ForwardNote, type ForwardRun, forwardTags } from './forward.js';
import { counted } from './log.js';
import type { Platform } from './platform.js';
import type { Digest } from './registry/digest.js';
import { type Repository, tagRef } from './registry/reference.js';
import { type FallbackFailure, listInFallbackTags, type StoredReferrer } from './registry/referrers.js';
import { type HeldPlatforms, heldPlatformsReader, refuseShrink } from './shrink.js';
import { type HeldManifests, readBack, readTags, type TagStates, writeTag } from './tag-io.js';
import type { Target } from './targets.js';

export type IfTagExists = 'overwrite' | 'fail' | 'skip' | 'forward';

export interface TagPlan {
  /** Tags to PUT. */
  readonly write: readonly string[];
  /** Tags that already hold the digest: never rewritten. */
  readonly unchanged: readonly string[];
  /** Tags at another digest left alone because `if-tag-exists: skip`. */
  readonly skipped: readonly string[];
}

/** How the writes went, tag by tag. */
export interface WriteReport {
  /** Written and read back serving the digest. */
  readonly moved: readonly string[];
  /** Not serving the digest after the run, each with its cause. */
  readonly failed: readonly { readonly tag: string; readonly reason: string }[];
}

/** Decides per tag, before anything is written; `fail` refuses the whole run so no tag moves. */
export function planTags(
  image: Repository,
  states: TagStates,
  digest: Digest,
  ifTagExists: IfTagExists,
): TagPlan {
  const write: string[] = [];
  const unchanged: string[] = [];
  const skipped: string[] = [];
  const conflicts: string[] = [];
  for (const [tag, current] of states) {
    if (current === digest) unchanged.push(tag);
    else if (current === undefined || ifTagExists === 'overwrite') write.push(tag);
    else if (ifTagExists === 'skip') skipped.push(tag);
    else conflicts.push(`${tagRef(image, tag)} is at ${current}`);
  }
  if (conflicts.length) {
    throw new Error(
      `if-tag-exists is fail and ${conflicts.join(', ')}, not ${digest}: nothing was written. ` +
        'Use a new tag, or set if-tag-exists to overwrite or skip',
    );
  }
  return { write, unchanged, skipped };
}

/**
 * Writes the index to every planned tag (in parallel), then reads each written tag back until it serves the
 * digest. Never throws for one tag: every tag's outcome is reported, so a partial write says what moved.
 */
export async function writeTags(
  image: Repository,
  index: AssembledIndex,
  plan: TagPlan,
  states: TagStates,
  context: RunContext,
): Promise<WriteReport> {
  const outcomes = await Promise.all(
    plan.write.map(async (tag) => {
      try {
        await writeTag(image, tag, index, context);
        await readBack(image, tag, index.digest, states.get(tag), context);
        return { tag, reason: undefined };
      } catch (error) {
        return { tag, reason: errorMessage(error) };
      }
    }),
  );
  return {
    moved: outcomes.filter((o) => o.reason === undefined).map((o) => o.tag),
    failed: outcomes.flatMap((o) => (o.reason === undefined ? [] : [{ tag: o.tag, reason: o.reason }])),
  };
}

/** What happened to one image's tags. */
export interface ImageOutcome {
  readonly image: Repository;
  /** The image's tags, in the order given. */
  readonly tags: readonly string[];
  /** Written and read back (in a dry run: would be written). */
  readonly moved: readonly string[];
  readonly unchanged: readonly string[];
  readonly skipped: readonly string[];
  readonly failed: WriteReport['failed'];
  /** With `if-tag-exists: forward`: per tag, what it held, what it holds now and why. */
  readonly forward?: readonly ForwardNote[];
  /** Moved tags that held another digest, and that digest: writing it back undoes the move. */
  readonly replaced?: Readonly<Record<string, Digest>>;
  /** With `attestations: referrers`: the attestations stored in this image as referrers of their images. */
  readonly referrers?: readonly StoredReferrer[];
}

/**
 * Publishes the index to every target image as one step. With several images, or `forward`, it is stored by digest
 * in every image first (SPEC "prepare everywhere, then flip"); with one image the tag PUTs store it themselves,
 * and it is stored by digest only when no tag PUT did (every tag skipped, already there, or refused), so `ref`
 * always resolves (docs/adr/0008-one-image-four-rounds.md). Each tag is decided on the state read right before
 * (`fail` refuses before any tag moves anywhere); then every tag in every image is written in parallel and read
 * back.
 */
export async function publish(
  targets: readonly Target[],
  index: AssembledIndex,
  options: {
    readonly ifTagExists: IfTagExists;
    readonly dryRun: boolean;
    /** For `forward`: how this run's index is ordered and merged. */
    readonly forward?: Omit<ForwardRun, 'image'>;
    /** What each image's tags held, read in the round before (else read here). */
    readonly states?: Promise<readonly TagStates[]>;
    /**
     * The index's platforms, when `platforms` was not given: a tag to be overwritten that holds an index with other
     * platforms is then refused (shrink.ts).
     */
    readonly keepPlatforms?: readonly Platform[];
    /** What the tags' indexes hold, read as soon as the tags were (else read here). */
    readonly heldPlatforms?: HeldPlatforms;
    /**
     * Per target, in order: the referrers already stored there by digest (brought with the sources, and the
     * attestations of `attestations: referrers`). Those the registry did not index itself are listed in their
     * subjects' fallback tags beside the tag writes, once every tag is decided: a refused run lists none.
     */
    readonly referrers?: readonly ImageReferrers[];
  },
  context: RunContext,
): Promise<ImageOutcome[]> {
  const { log } = context;
  const storeFirst = !options.dryRun && (targets.length > 1 || options.ifTagExists === 'forward');
  const [states] = await Promise.all([
    options.states ?? readAllTags(targets, context),
    storeFirst ? Promise.all(targets.map((target) => storeByDigest(target, index, context))) : undefined,
  ]);
  if (options.ifTagExists === 'forward') {
    const forward = options.forward;
    if (!forward) throw new Error('if-tag-exists: forward needs an ordering');
    return Promise.all(
      targets.map(async (target, i) => {
        const [notes, unlisted] = await Promise.all([
          forwardTags({ ...forward, image: target.image }, states[i] as TagStates, {
            context,
            dryRun: options.dryRun,
          }),
          listReferrers(target, options, i, context),
        ]);
        const outcome = outcomeOf(target, notes);
        return { ...outcome, failed: [...outcome.failed, ...unlisted], ...attestationsOf(options, i) };
      }),
    );
  }
  if (options.ifTagExists === 'overwrite' && options.keepPlatforms) {
    const read = targets.map((target, i) => ({ image: target.image, states: states[i] as TagStates }));
    const held = options.heldPlatforms ?? heldPlatformsReader(context);
    await refuseShrink(read, { digest: index.digest, platforms: options.keepPlatforms }, held);
  }
  const plans = targets.map((target, i) =>
    planTags(target.image, states[i] as TagStates, index.digest, options.ifTagExists),
  );
  targets.forEach(({ image }, i) => {
    const plan = plans[i] as TagPlan;
    for (const tag of plan.unchanged) log.info(`${tagRef(image, tag)} already serves ${index.digest}`);
    for (const tag of plan.skipped) {
      const held = (states[i] as TagStates).get(tag);
      log.warning(`${tagRef(image, tag)} is at ${held}; left alone (if-tag-exists: skip)`, 'Tag skipped');
    }
    if (options.dryRun) {
      for (const tag of plan.write) {
        const held = (states[i] as TagStates).get(tag);
        log.info(`dry run: would write ${tagRef(image, tag)}${held ? ` (now at ${held})` : ''}`);
      }
    }
  });
  const reports: WriteReport[] = options.dryRun
    ? plans.map((plan) => ({ moved: plan.write, failed: [] }))
    : await Promise.all(
        targets.map(async (target, i) => {
          const plan = plans[i] as TagPlan;
          const [report, unlisted] = await Promise.all([
            writeTags(target.image, index, plan, states[i] as TagStates, context),
            listReferrers(target, options, i, context),
          ]);
          // No tag PUT stored the index and no tag held it already: store it by digest, so `ref` resolves.
          if (!storeFirst && report.moved.length === 0 && plan.unchanged.length === 0) {
            await storeByDigest(target, index, context).catch((error: unknown) => {
              const why = `${target.image.display}@${index.digest} could not be stored: ${errorMessage(error)}`;
              // A run that already fails says so with its tags; one that would succeed must not hand on a `ref`
              // that does not resolve.
              if (report.failed.length > 0) log.warning(why);
              else
                throw new Error(`${why}. No tag of ${target.image.display} moved, and ref would not resolve`);
            });
          }
          return { moved: report.moved, failed: [...report.failed, ...unlisted] };
        }),
      );
  return targets.map((target, i) => {
    const report = reports[i] as WriteReport;
    const plan = plans[i] as TagPlan;
    const replaced: Record<string, Digest> = {};
    for (const tag of report.moved) {
      const held = (states[i] as TagStates).get(tag);
      if (held !== undefined) replaced[tag] = held;
    }
    if (!options.dryRun) {
      for (const tag of report.moved) {
        // What the tag held, so a mistake can be undone by writing that digest back.
        const held = replaced[tag] ? `; it held ${replaced[tag]}` : '';
        log.info(`${tagRef(target.image, tag)} -> ${index.digest} (verified${held})`);
      }
    }
    return {
      ...target,
      ...report,
      unchanged: plan.unchanged,
      skipped: plan.skipped,
      replaced,
      ...attestationsOf(options, i),
    };
  });
}

/** The run's last line, as the `written` output says it: whether any tag moved, and if not, why not. */
export function writtenLine(outcomes: readonly ImageOutcome[], dryRun: boolean): string {
  const moved = outcomes.reduce((sum, outcome) => sum + outcome.moved.length, 0);
  if (dryRun) return `written: false (dry run; ${counted(moved, 'tag')} would move)`;
  if (moved > 0) return `written: true (${counted(moved, 'tag')} moved)`;
  const everyTagServes = outcomes.every((o) => o.unchanged.length === o.tags.length);
  return everyTagServes
    ? 'written: false: every tag already serves the index'
    : 'written: false: no tag moved';
}

/** Reads every tag of every image, in parallel; with `held`, by GET, keeping what they hold (tag-io.ts). */
export function readAllTags(
  targets: readonly Target[],
  context: RunContext,
  held?: HeldManifests,
): Promise<TagStates[]> {
  const { client, deadline } = context;
  return Promise.all(targets.map((target) => readTags(client, target.image, target.tags, deadline, held)));
}

/** PUTs the index by digest, waiting out a child not served yet (`MANIFEST_BLOB_UNKNOWN` right after a copy). */
async function storeByDigest(target: Target, index: AssembledIndex, context: RunContext): Promise<void> {
  await context.client.putManifest(target.image, index.digest, index.bytes, index.mediaType, {
    deadline: context.deadline,
    untilFound: true,
  });
}

/** The referrers stored in one target image before its tags were read. */
export interface ImageReferrers {
  /** Brought with the sources (`referrers: copy`). */
  readonly brought: readonly StoredReferrer[];
  /** The attestations of `attestations: referrers`. */
  readonly attestations: readonly StoredReferrer[];
}

/** Lists one image's stored referrers in their fallback tags (none in a dry run); the tags that failed, as writes. */
async function listReferrers(
  target: Target,
  options: { readonly dryRun: boolean; readonly referrers?: readonly ImageReferrers[] },
  i: number,
  context: RunContext,
): Promise<FallbackFailure[]> {
  const stored = options.referrers?.[i];
  if (options.dryRun || !stored) return [];
  return listInFallbackTags(target.image, [...stored.brought, ...stored.attestations], context);
}

/** The attestations stored in one image as referrers, for its outcome. */
function attestationsOf(
  options: { readonly referrers?: readonly ImageReferrers[] },
  i: number,
): { referrers?: readonly StoredReferrer[] } {
  const stored = options.referrers?.[i]?.attestations;
  return stored?.length ? { referrers: stored } : {};
}

/** A forward run's notes as an outcome: moved, already there, left behind (skipped), or failed. */
function outcomeOf(target: Target, notes: readonly ForwardNote[]): ImageOutcome {
  const ok = notes.filter((note) => note.failure === undefined);
  return {
    ...target,
    moved: ok.filter((n) => n.serves && n.now !== n.held).map((n) => n.tag),
    unchanged: ok.filter((n) => n.serves && n.now === n.held).map((n) => n.tag),
    skipped: ok.filter((n) => !n.serves).map((n) => n.tag),
    failed: notes.flatMap((n) => (n.failure === undefined ? [] : [{ tag: n.tag, reason: n.failure }])),
    forward: notes,
  };
}

/** One message for a write that did not reach every tag: which tags serve the digest, which do not and why. */
export function partialWriteMessage(digest: Digest, outcomes: readonly ImageOutcome[]): string {
  const failed = outcomes
    .flatMap(({ image, failed }) =>
      failed.map(({ tag, reason }) => {
        const ref = tagRef(image, tag);
        return reason.startsWith(ref) ? reason : `${ref}: ${reason}`;
      }),
    )
    .join('; ');
  const moved = outcomes.flatMap(({ image, moved }) => moved.map((tag) => tagRef(image, tag)));
  return moved.length
    ? `only some tags were written. Now serving ${digest}: ${moved.join(', ')}. Not serving it: ${failed}`
    : `no tag serves ${digest} after the write: ${failed}`;
}
