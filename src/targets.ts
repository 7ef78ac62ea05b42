import { errorMessage } from './errors.js';
import { INPUT, InputError, listOf } from './input-names.js';
import {
  canonicalName,
  isValidTag,
  parseReference,
  parseRepository,
  type Repository,
  sameRepository,
} from './registry/reference.js';

/** One image to publish to, and the tags it gets. */
export interface Target {
  readonly image: Repository;
  readonly tags: readonly string[];
}

const TAG_RULES = 'up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"';

/**
 * The `image` and `tags` inputs (SPEC): one or more repositories, the first the primary; a bare tag goes on every
 * image, a full reference (`ghcr.io/org/app:1.2`, as docker/metadata-action's `tags` output gives it) on its own
 * image, which must be one of `image`. Every image must get at least one tag.
 */
export function parseTargets(imageText: string, tagsText: string): Target[] {
  const images = parseImages(imageText);
  const primary = images[0] as Repository;
  const example = `e.g. latest or 1.2.3, or ${primary.display}:1.2.3`;
  if (!tagsText) throw new InputError(INPUT.tags, `required: give at least one tag, ${example}`);
  const tags = new Map(images.map((image) => [canonicalName(image), [] as string[]]));
  const lines = listOf(tagsText);
  if (lines.length === 0)
    throw new InputError(INPUT.tags, `no tags in ${JSON.stringify(tagsText)}: ${example}`);
  for (const line of lines) {
    const { image, tag } = tagOf(line, images, example);
    for (const target of image ? [image] : images) {
      const list = tags.get(canonicalName(target)) as string[];
      if (!list.includes(tag)) list.push(tag);
    }
  }
  return images.map((image) => {
    const list = tags.get(canonicalName(image)) as string[];
    if (list.length === 0) {
      throw new InputError(
        INPUT.tags,
        `no tag goes on ${image.display}: every tag is a full reference to another image. Add a bare tag ` +
          `(it goes on every image) or ${image.display}:<tag>`,
      );
    }
    return { image, tags: list };
  });
}

function parseImages(text: string): Repository[] {
  const example = 'e.g. ghcr.io/org/app, or one per line to publish to several registries';
  const lines = listOf(text);
  if (lines.length === 0)
    throw new InputError(INPUT.image, `required: give the target repository, ${example}`);
  const images: Repository[] = [];
  for (const line of lines) {
    let image: Repository;
    try {
      image = parseRepository(line, 'image');
    } catch (error) {
      throw new InputError(INPUT.image, errorMessage(error));
    }
    // The same repository spelt twice (`app` and `docker.io/library/app`) is one target.
    if (!images.some((seen) => sameRepository(seen, image))) images.push(image);
  }
  return images;
}

/** A plain tag (for every image), or the tag of a full reference to one of the images. */
function tagOf(
  line: string,
  images: readonly Repository[],
  example: string,
): { image: Repository | undefined; tag: string } {
  if (isValidTag(line)) return { image: undefined, tag: line };
  if (line.includes('@')) {
    throw new InputError(INPUT.tags, `"${line}" holds a digest; tags take no digest, drop "@…": ${example}`);
  }
  if (!line.includes('/') && !line.includes(':')) {
    throw new InputError(INPUT.tags, `"${line}" is not a valid tag: ${TAG_RULES}; ${example}`);
  }
  let reference: ReturnType<typeof parseReference>;
  try {
    reference = parseReference(line, 'tag');
  } catch (error) {
    throw new InputError(INPUT.tags, `${errorMessage(error)}: ${example}`);
  }
  const { repository, tag } = reference;
  const primary = images[0] as Repository;
  if (tag === undefined) {
    // `feature/x` reads as a repository; a branch name is the usual cause, which metadata-action sanitises.
    throw new InputError(
      INPUT.tags,
      `"${line}" is not a valid tag ("/" is not allowed; ${TAG_RULES}) nor a full reference with ":<tag>": ` +
        `write ${primary.display}:<tag>, or let docker/metadata-action turn branch names into tags; ${example}`,
    );
  }
  const image = images.find((candidate) => sameRepository(candidate, repository));
  if (!image) {
    const names = images.map(canonicalName).join(', ');
    throw new InputError(
      INPUT.tags,
      `"${line}" is a tag of ${canonicalName(repository)}, not of image ${names}: ` +
        `write the tag alone or ${primary.display}:${tag}, or add ${repository.display} to image`,
    );
  }
  return { image, tag };
}
