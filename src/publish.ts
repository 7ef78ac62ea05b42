import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import type { AssembledIndex } from './model.js';
import { isLag, type RegistryClient } from './registry/client.js';
import type { Digest } from './registry/digest.js';
import { type Repository, tagRef } from './registry/reference.js';
import { withRetry } from './registry/retry.js';

export type IfTagExists = 'overwrite' | 'fail' | 'skip';

/** What each tag held before the run: a digest, or undefined when the tag did not exist. */
export type TagStates = ReadonlyMap<string, Digest | undefined>;

export interface TagPlan {
  /** Tags to PUT. */
  readonly write: readonly string[];
  /** Tags that already hold the digest: never rewritten. */
  readonly unchanged: readonly string[];
  /** Tags at another digest left alone because `if-tag-exists: skip`. */
  readonly skipped: readonly string[];
}

/** HEADs every tag in parallel; a missing tag is undefined. Transient faults are retried by the client. */
export async function readTags(
  client: RegistryClient,
  image: Repository,
  tags: readonly string[],
  deadline: number,
): Promise<TagStates> {
  const states = await Promise.all(
    tags.map(async (tag) => {
      try {
        return [tag, (await client.headManifest(image, tag, { deadline })).digest] as const;
      } catch (error) {
        if (isLag(error)) return [tag, undefined] as const;
        throw error;
      }
    }),
  );
  return new Map(states);
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

export interface PublishContext {
  readonly client: RegistryClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly deadline: number;
}

/**
 * Writes the index to every planned tag (in parallel), then reads each back until it serves the digest.
 * A tag that comes back at a third digest was replaced by another writer: that fails the run, naming it.
 */
export async function writeTags(
  image: Repository,
  index: AssembledIndex,
  plan: TagPlan,
  states: TagStates,
  context: PublishContext,
): Promise<void> {
  const { client, clock, log, deadline } = context;
  await Promise.all(
    plan.write.map((tag) =>
      client.putManifest(image, tag, index.bytes, index.mediaType, { deadline, untilFound: true }),
    ),
  );
  await Promise.all(
    plan.write.map((tag) =>
      withRetry(
        async () => {
          let served: Digest | undefined;
          try {
            served = (await client.headManifest(image, tag, { deadline })).digest;
          } catch (error) {
            if (!isLag(error)) throw error;
          }
          if (served === index.digest) return;
          if (served === states.get(tag))
            throw new StaleTag(`${tagRef(image, tag)} still serves ${served ?? 'nothing'}`);
          throw new Error(
            `${tagRef(image, tag)} was replaced by ${served} right after this run wrote ${index.digest}: ` +
              'another writer published the same tag; make one job the only writer of it',
          );
        },
        {
          clock,
          deadline,
          // Transient faults are retried inside the client; this loop only waits out a stale tag.
          retryable: (error) => error instanceof StaleTag,
          onRetry: (error) =>
            log.debug(`read-back: ${error instanceof Error ? error.message : String(error)}`),
        },
      ).catch((error: unknown) => {
        if (error instanceof StaleTag) {
          throw new Error(`${error.message} after wait-timeout, though ${index.digest} was written to it`);
        }
        throw error;
      }),
    ),
  );
}
