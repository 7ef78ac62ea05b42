import type { AssembledIndex } from './assemble.js';
import type { RunContext } from './context.js';
import { errorMessage } from './errors.js';
import type { FetchedManifest, RegistryClient } from './registry/client.js';
import type { Digest } from './registry/digest.js';
import { ErrorCode, isLag, RegistryError, sentences } from './registry/errors.js';
import { canonicalName, type Repository, tagRef } from './registry/reference.js';
import { withRetry } from './registry/retry.js';

/** Reading, writing and reading back one tag: what every `if-tag-exists` mode is built from. */

/** What each tag held right before the write: a digest, or undefined when the tag did not exist. */
export type TagStates = ReadonlyMap<string, Digest | undefined>;

/**
 * What the tags held, by digest, read with GET instead of HEAD: the no-shrink check needs the platforms of an
 * index a tag holds, and reading them with the tag saves the round a second read would cost.
 */
export type HeldManifests = Map<string, FetchedManifest>;

/** The key of a manifest in HeldManifests. */
export function heldKey(image: Repository, digest: Digest): string {
  return `${canonicalName(image)}@${digest}`;
}

/**
 * Reads every tag in parallel (HEAD, or GET when `held` is given, which then keeps each manifest read); a
 * missing tag is undefined. Transient faults are retried by the client.
 */
export async function readTags(
  client: RegistryClient,
  image: Repository,
  tags: readonly string[],
  deadline: number,
  held?: HeldManifests,
): Promise<TagStates> {
  const states = await Promise.all(
    tags.map(async (tag) => {
      if (!held) return [tag, await readTag(client, image, tag, deadline)] as const;
      const manifest = await unlessMissing(client.getManifest(image, tag, { deadline }));
      if (manifest) held.set(heldKey(image, manifest.descriptor.digest), manifest);
      return [tag, manifest?.descriptor.digest] as const;
    }),
  );
  return new Map(states);
}

export async function readTag(
  client: RegistryClient,
  image: Repository,
  tag: string,
  deadline: number,
): Promise<Digest | undefined> {
  return (await unlessMissing(client.headManifest(image, tag, { deadline })))?.digest;
}

/** What a read of a tag gave, or undefined when the tag does not exist (404, lag included). */
async function unlessMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isLag(error)) return undefined;
    throw error;
  }
}

/** The tag still serves what it held before the write: registry lag, worth waiting for. */
class StaleTag extends Error {}

/**
 * PUTs one tag. A 4xx answer is checked against what the tag serves: a retried PUT whose first answer was lost,
 * or an immutable tag that already holds this digest (ECR, Quay, Harbor and Docker Hub refuse even an identical
 * re-push), is success; otherwise the registry's refusal is explained.
 */
export async function writeTag(image: Repository, tag: string, index: AssembledIndex, context: RunContext) {
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

/** Another writer put something else on the tag right after ours. */
export class ReplacedTag extends Error {
  constructor(
    message: string,
    readonly served: Digest | undefined,
  ) {
    super(message);
  }
}

/** Reads the tag until it serves the digest; a tag at a third digest was replaced by another writer. */
export async function readBack(
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
      throw new ReplacedTag(
        `${tagRef(image, tag)} was replaced by ${served} right after this run wrote ${digest}: ` +
          'another writer published the same tag; make one job the only writer of it',
        served,
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
