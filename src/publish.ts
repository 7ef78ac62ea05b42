import type { AssembledIndex } from './assemble.js';
import type { RunContext } from './context.js';
import { errorMessage } from './errors.js';
import type { RegistryClient } from './registry/client.js';
import type { Digest } from './registry/digest.js';
import { ErrorCode, isLag, RegistryError, sentences } from './registry/errors.js';
import { type Repository, tagRef } from './registry/reference.js';
import { withRetry } from './registry/retry.js';

export type IfTagExists = 'overwrite' | 'fail' | 'skip';

/** What each tag held right before the write: a digest, or undefined when the tag did not exist. */
export type TagStates = ReadonlyMap<string, Digest | undefined>;

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

/** HEADs every tag in parallel; a missing tag is undefined. Transient faults are retried by the client. */
export async function readTags(
  client: RegistryClient,
  image: Repository,
  tags: readonly string[],
  deadline: number,
): Promise<TagStates> {
  const states = await Promise.all(
    tags.map(async (tag) => [tag, await readTag(client, image, tag, deadline)] as const),
  );
  return new Map(states);
}

async function readTag(
  client: RegistryClient,
  image: Repository,
  tag: string,
  deadline: number,
): Promise<Digest | undefined> {
  try {
    return (await client.headManifest(image, tag, { deadline })).digest;
  } catch (error) {
    if (isLag(error)) return undefined;
    throw error;
  }
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

/** The tag still serves what it held before the write: registry lag, worth waiting for. */
class StaleTag extends Error {}

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

/**
 * PUTs one tag. A 4xx answer is checked against what the tag serves: a retried PUT whose first answer was lost,
 * or an immutable tag that already holds this digest (ECR, Quay, Harbor and Docker Hub refuse even an identical
 * re-push), is success; otherwise the registry's refusal is explained.
 */
async function writeTag(image: Repository, tag: string, index: AssembledIndex, context: RunContext) {
  const { client, deadline } = context;
  try {
    await client.putManifest(image, tag, index.bytes, index.mediaType, { deadline, untilFound: true });
  } catch (error) {
    if (!(error instanceof RegistryError) || error.status < 400 || error.status >= 500) throw error;
    const served = await readTag(client, image, tag, deadline).catch(() => undefined);
    if (served === index.digest) return;
    throw new Error(refusal(error));
  }
}

/** Why a registry refused a tag, in words a user can act on. */
function refusal(error: RegistryError): string {
  const immutable =
    error.hasCode(ErrorCode.TAG_INVALID) ||
    error.hasCode(ErrorCode.TAG_IMMUTABLE) ||
    error.status === 409 ||
    error.status === 412 ||
    error.status === 403;
  if (!immutable) return error.message;
  return sentences(
    error.summary,
    'the registry refuses to move this tag: it is probably immutable or protected (ECR image tag mutability, ' +
      'Quay or Harbor immutability rules, Docker Hub), or a quota was reached. Publish a new tag, or allow ' +
      'overwriting it in the registry',
  );
}

/** Reads the tag until it serves the digest; a tag at a third digest was replaced by another writer. */
async function readBack(
  image: Repository,
  tag: string,
  digest: Digest,
  before: Digest | undefined,
  context: RunContext,
): Promise<void> {
  const { client, clock, log, deadline } = context;
  await withRetry(
    async () => {
      const served = await readTag(client, image, tag, deadline);
      if (served === digest) return;
      if (served === before) throw new StaleTag(`${tagRef(image, tag)} still serves ${served ?? 'nothing'}`);
      throw new Error(
        `${tagRef(image, tag)} was replaced by ${served} right after this run wrote ${digest}: ` +
          'another writer published the same tag; make one job the only writer of it',
      );
    },
    {
      clock,
      deadline,
      // Transient faults are retried inside the client; this loop only waits out a stale tag.
      retryable: (error) => error instanceof StaleTag,
      onRetry: (error) => log.debug(`read-back: ${errorMessage(error)}`),
    },
  ).catch((error: unknown) => {
    if (error instanceof StaleTag) {
      throw new Error(`${error.message} after wait-timeout, though ${digest} was written to it`);
    }
    throw error;
  });
}

/** One message for a write that did not reach every tag: which tags serve the digest, which do not and why. */
export function partialWriteMessage(image: Repository, digest: Digest, report: WriteReport): string {
  const failed = report.failed
    .map(({ tag, reason }) => {
      const ref = tagRef(image, tag);
      return reason.startsWith(ref) ? reason : `${ref}: ${reason}`;
    })
    .join('; ');
  const moved = report.moved.map((tag) => tagRef(image, tag)).join(', ');
  return report.moved.length
    ? `only some tags were written. Now serving ${digest}: ${moved}. Not serving it: ${failed}`
    : `no tag serves ${digest} after the write: ${failed}`;
}
