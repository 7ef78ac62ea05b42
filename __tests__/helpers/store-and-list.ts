import type { Repository } from '../../src/registry/reference.js';
import {
  listInFallbackTags,
  type ReferrerContext,
  type ReferrerManifest,
  type StoredReferrer,
  storeReferrers,
} from '../../src/registry/referrers.js';

/** Stores referrers by digest, then lists them in their fallback tags, as a run's publish does; throws if one failed. */
export async function storeAndList(
  repository: Repository,
  manifests: readonly ReferrerManifest[],
  context: ReferrerContext,
): Promise<StoredReferrer[]> {
  const stored = await storeReferrers(repository, manifests, context);
  const failed = await listInFallbackTags(repository, stored, context);
  if (failed.length) throw new Error(failed.map((f) => `${f.tag}: ${f.reason}`).join('; '));
  return stored;
}
