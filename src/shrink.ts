import type { RunContext } from './context.js';
import { imagesOfIndex } from './forward.js';
import { type Platform, platformKey } from './platform.js';
import type { FetchedManifest } from './registry/client.js';
import type { Digest } from './registry/digest.js';
import { isLag } from './registry/errors.js';
import { isIndexMediaType } from './registry/media-types.js';
import { type Repository, tagRef } from './registry/reference.js';
import { type HeldManifests, heldKey, type TagStates } from './tag-io.js';

/**
 * No silent shrink (SPEC `platforms`): without `platforms`, a tag that holds an index with platforms ours lacks is
 * not moved, and the run fails before any tag moves anywhere. A tag holding a single image, or nothing, is not
 * checked; attestation entries are not platforms. Called on the tag states read right before the write.
 */
export async function refuseShrink(
  images: readonly { readonly image: Repository; readonly states: TagStates }[],
  ours: { readonly digest: Digest; readonly platforms: readonly Platform[] },
  platformsHeld: HeldPlatforms,
): Promise<void> {
  const have = new Set(ours.platforms.map(platformKey));
  const found = await Promise.all(
    images.flatMap(({ image, states }) =>
      [...states].flatMap(([tag, held]) =>
        held === undefined || held === ours.digest
          ? []
          : [
              platformsHeld(image, held).then((platforms) => ({
                ref: tagRef(image, tag),
                held,
                dropped: platforms.filter((p) => !have.has(p)),
              })),
            ],
      ),
    ),
  );
  const shrinking = found.filter((f) => f.dropped.length > 0);
  if (shrinking.length === 0) return;
  const dropped = [...new Set(shrinking.flatMap((f) => f.dropped))];
  const kept = [...have].join(', ');
  throw new Error(
    `this index has ${kept}, but ${shrinking
      .map((f) => `${f.ref} holds ${f.held}, which also has ${f.dropped.join(', ')}`)
      .join('; ')}: writing would drop ${dropped.join(', ')}, so no tag was moved. Add the source(s) of ` +
      `${dropped.join(', ')}, or set platforms: ${[...have].join(',')} to confirm the ` +
      'smaller set on purpose',
  );
}

/** The platform keys of the index a digest names in an image: none for a single image or a digest not served. */
export type HeldPlatforms = (image: Repository, digest: Digest) => Promise<string[]>;

/**
 * Reads each held index once per image and digest; what `known` holds (the tags read whole, tag-io.ts) is not read
 * again, so the check right before the write costs no round of its own.
 */
export function heldPlatformsReader(context: RunContext, known?: HeldManifests): HeldPlatforms {
  const read = new Map<string, Promise<string[]>>();
  return (image, digest) => {
    const key = heldKey(image, digest);
    let pending = read.get(key);
    if (!pending) {
      const manifest = known?.get(key);
      pending = manifest ? Promise.resolve(platformsOf(manifest)) : indexPlatforms(image, digest, context);
      // Awaited by the check; a run that fails before then must not also report this read unhandled.
      pending.catch(() => {});
      read.set(key, pending);
    }
    return pending;
  };
}

/** The platform keys of an index; none for a single image. */
function platformsOf(manifest: FetchedManifest): string[] {
  if (!isIndexMediaType(manifest.descriptor.mediaType)) return [];
  return imagesOfIndex(manifest.json).map((i) => platformKey(i.descriptor.platform));
}

/** The platform keys of the index a tag holds; none for a single image or a digest no longer served. */
async function indexPlatforms(image: Repository, digest: Digest, context: RunContext): Promise<string[]> {
  try {
    return platformsOf(await context.client.getManifest(image, digest, { deadline: context.deadline }));
  } catch (error) {
    // Deleted between the tag's HEAD and this read: the tag holds nothing to keep.
    if (isLag(error)) return [];
    throw error;
  }
}
