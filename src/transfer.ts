import type { ConsistencyWait } from './consistency.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import type { SourceEntry } from './model.js';
import { isLag, type RegistryClient } from './registry/client.js';
import { type Digest, isDigest } from './registry/digest.js';
import { isIndexMediaType } from './registry/media-types.js';
import { canonicalName, type Repository } from './registry/reference.js';

export interface TransferContext {
  readonly client: RegistryClient;
  readonly wait: ConsistencyWait;
  readonly log: Logger;
  readonly deadline: number;
}

interface Tally {
  mounted: number;
  copied: number;
  present: number;
}

/**
 * Brings sources that live in other repositories into the image, so the index can name them: every blob by
 * cross-repository mount where the registry is the same (else streamed across), then each manifest with its
 * exact bytes, leaves first and an index last. A blob shared by several manifests moves once.
 */
export async function bringIn(
  sources: readonly SourceEntry[],
  image: Repository,
  context: TransferContext,
): Promise<void> {
  const blobs = new Map<string, Promise<void>>();
  const tally: Tally = { mounted: 0, copied: 0, present: 0 };
  await Promise.all(
    sources.map(async (source) => {
      try {
        await copyManifest(source.repository, image, source.digest, context, blobs, tally);
      } catch (error) {
        if (!isLag(error)) throw error;
        throw new Error(
          `sources: "${source.text}": ${canonicalName(source.repository)} still does not serve it after wait-timeout ` +
            `(${errorMessage(error)}). Check the digest and repository, or raise wait-timeout`,
        );
      }
      context.log.info(`${source.text}: brought into ${canonicalName(image)}`);
    }),
  );
  context.log.info(`blobs: ${tally.mounted} mounted, ${tally.copied} copied, ${tally.present} already there`);
}

async function copyManifest(
  from: Repository,
  to: Repository,
  digest: Digest,
  context: TransferContext,
  blobs: Map<string, Promise<void>>,
  tally: Tally,
): Promise<void> {
  const manifest = await context.wait.manifest(from, digest);
  const json = manifest.json;
  if (isIndexMediaType(manifest.descriptor.mediaType)) {
    const children = Array.isArray(json['manifests']) ? (json['manifests'] as { digest?: unknown }[]) : [];
    await Promise.all(
      digestsOf(children).map((child) => copyManifest(from, to, child, context, blobs, tally)),
    );
  } else {
    const layers = Array.isArray(json['layers']) ? (json['layers'] as { digest?: unknown }[]) : [];
    const needed = digestsOf([json['config'] as { digest?: unknown }, ...layers]);
    await Promise.all(
      needed.map((blob) => {
        let pending = blobs.get(blob);
        if (!pending) {
          pending = copyBlob(from, to, blob, context, tally);
          blobs.set(blob, pending);
        }
        return pending;
      }),
    );
  }
  await context.client.putManifest(to, digest, manifest.bytes, manifest.descriptor.mediaType, {
    deadline: context.deadline,
    untilFound: true,
  });
}

async function copyBlob(
  from: Repository,
  to: Repository,
  digest: Digest,
  context: TransferContext,
  tally: Tally,
) {
  const { client, deadline } = context;
  if (from.endpoint === to.endpoint) {
    // A mount of a blob the target already has answers 201 too, so no HEAD first.
    if (await client.mountBlob(to, digest, from, { deadline })) {
      tally.mounted += 1;
      return;
    }
  } else {
    try {
      await client.headBlob(to, digest, { deadline });
      tally.present += 1;
      return;
    } catch {
      // Not there yet: copy it.
    }
  }
  await client.copyBlob(from, to, digest, { deadline });
  tally.copied += 1;
}

function digestsOf(descriptors: readonly ({ digest?: unknown } | undefined)[]): Digest[] {
  return descriptors.flatMap((d) => (typeof d?.digest === 'string' && isDigest(d.digest) ? [d.digest] : []));
}
