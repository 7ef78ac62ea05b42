import type { AssembledIndex } from './assemble.js';
import { assemble } from './assemble.js';
import type { Clock } from './clock.js';
import { ConsistencyWait } from './consistency.js';
import type { RunContext } from './context.js';
import type { Inputs } from './inputs.js';
import type { Logger } from './log.js';
import { platformKey } from './platform.js';
import type { PlatformImage } from './platform-images.js';
import { partialWriteMessage, planTags, readTags, type WriteReport, writeTags } from './publish.js';
import type { RegistryClient } from './registry/client.js';
import type { Digest } from './registry/digest.js';
import { DOCKER_MANIFEST, OCI_INDEX } from './registry/media-types.js';
import { digestRef, sameRepository, tagRef } from './registry/reference.js';
import { resolveSources } from './resolve.js';
import { bringIn } from './transfer.js';

export interface RunDeps {
  readonly client: RegistryClient;
  readonly log: Logger;
  readonly clock: Clock;
}

export interface PlatformRow {
  readonly platform: string;
  readonly digest: Digest;
  readonly size: number;
  readonly source: string;
  readonly attestations: number;
}

export interface Result {
  readonly digest: Digest;
  readonly ref: string;
  readonly mediaType: string;
  /** Full references of the tags written or confirmed. */
  readonly tags: readonly string[];
  readonly platformDigests: Readonly<Record<string, string>>;
  readonly platformRefs: Readonly<Record<string, string>>;
  /** The index JSON exactly as written. */
  readonly manifest: string;
  readonly written: boolean;
  readonly dryRun: boolean;
  /** Tags moved to the digest (in a dry run: that would be). */
  readonly writtenTags: readonly string[];
  readonly unchangedTags: readonly string[];
  readonly skippedTags: readonly string[];
  /** Tags a write did not reach, with the cause. */
  readonly failedTags: readonly { readonly tag: string; readonly reason: string }[];
  readonly platforms: readonly PlatformRow[];
  /** How long the registry took to serve every source (0 when it already did). */
  readonly waitedMs: number;
}

/** A write that moved some tags but not all: the outputs of what did move still matter to the caller. */
export class PartialPublishError extends Error {
  override readonly name = 'PartialPublishError';
  constructor(
    message: string,
    readonly result: Result,
  ) {
    super(message);
  }
}

/** Resolve -> wait -> assemble -> publish. Takes its client, logger and clock; reads no environment. */
export async function run(inputs: Inputs, deps: RunDeps): Promise<Result> {
  const { client, log, clock } = deps;
  const { image } = inputs;
  const deadline = clock.now() + inputs.waitTimeoutMs;
  const foreign = inputs.sources.filter((s) => !sameRepository(s.repository, image));
  // One token per registry for the whole run: push on the image unless nothing is written, pull on sources.
  client.declare(image, inputs.dryRun ? ['pull'] : ['pull', 'push']);
  for (const source of foreign) client.declare(source.repository, ['pull']);
  const context: RunContext = { client, log, clock, deadline };
  const wait = new ConsistencyWait(context);

  const images = await log.group('Resolve sources', async () => {
    // A dry run writes nothing, not even into the image: it reads foreign sources where they are.
    if (foreign.length && !inputs.dryRun) await bringIn(foreign, image, { ...context, wait });
    const resolved = await resolveSources(inputs.sources, inputs, {
      ...context,
      wait,
      image,
      readFromSources: inputs.dryRun,
    });
    for (const item of resolved) {
      log.info(`${platformKey(item.descriptor.platform)}: ${item.descriptor.digest} (from ${item.source})`);
    }
    return resolved;
  });

  const index = await log.group('Assemble', async () => {
    checkAnnotations(inputs, clock, log);
    const assembled = assemble(images, { mediaType: inputs.mediaType, annotations: inputs.annotations });
    log.info(
      `${assembled.mediaType} ${assembled.digest} (${assembled.bytes.length} bytes, ${images.length} platforms)`,
    );
    checkMixedMediaTypes(assembled.mediaType, images, log);
    return assembled;
  });

  return log.group('Publish', async () => {
    // The index is stored by digest before any tag moves, so `ref` resolves even when no tag moves; the tags
    // are read now, right before the write, so if-tag-exists decides on their state after the wait.
    const [states] = await Promise.all([
      readTags(client, image, inputs.tags, deadline),
      inputs.dryRun
        ? undefined
        : client.putManifest(image, index.digest, index.bytes, index.mediaType, {
            deadline,
            untilFound: true,
          }),
    ]);
    const plan = planTags(image, states, index.digest, inputs.ifTagExists);
    for (const tag of plan.unchanged) log.info(`${tagRef(image, tag)} already serves ${index.digest}`);
    for (const tag of plan.skipped) {
      log.warning(
        `${tagRef(image, tag)} is at ${states.get(tag)}; left alone (if-tag-exists: skip)`,
        'Tag skipped',
      );
    }
    const outcome = { images, index, wait, unchanged: plan.unchanged, skipped: plan.skipped };
    if (inputs.dryRun) {
      for (const tag of plan.write) log.info(`dry run: would write ${tagRef(image, tag)}`);
      return resultOf(inputs, { ...outcome, moved: plan.write, failed: [] });
    }
    const report = await writeTags(image, index, plan, states, context);
    for (const tag of report.moved) log.info(`${tagRef(image, tag)} -> ${index.digest} (verified)`);
    const result = resultOf(inputs, { ...outcome, ...report });
    if (report.failed.length) {
      throw new PartialPublishError(partialWriteMessage(image, index.digest, report), result);
    }
    return result;
  });
}

interface Outcome {
  readonly images: readonly PlatformImage[];
  readonly index: AssembledIndex;
  readonly wait: ConsistencyWait;
  readonly moved: readonly string[];
  readonly unchanged: readonly string[];
  readonly skipped: readonly string[];
  readonly failed: WriteReport['failed'];
}

function resultOf(inputs: Inputs, outcome: Outcome): Result {
  const { image } = inputs;
  const { images, index } = outcome;
  const platformDigests: Record<string, string> = {};
  const platformRefs: Record<string, string> = {};
  // Resolved images are already in index order, so the outputs list platforms in that order too.
  for (const item of images) {
    const key = platformKey(item.descriptor.platform);
    platformDigests[key] = item.descriptor.digest;
    platformRefs[key] = digestRef(image, item.descriptor.digest);
  }
  const serving = new Set([...outcome.moved, ...outcome.unchanged]);
  return {
    digest: index.digest,
    ref: digestRef(image, index.digest),
    mediaType: index.mediaType,
    tags: inputs.tags.filter((tag) => serving.has(tag)).map((tag) => tagRef(image, tag)),
    platformDigests,
    platformRefs,
    manifest: Buffer.from(index.bytes).toString('utf8'),
    written: !inputs.dryRun && outcome.moved.length > 0,
    dryRun: inputs.dryRun,
    writtenTags: outcome.moved,
    unchangedTags: outcome.unchanged,
    skippedTags: outcome.skipped,
    failedTags: outcome.failed,
    platforms: images.map((item) => ({
      platform: platformKey(item.descriptor.platform),
      digest: item.descriptor.digest,
      size: item.descriptor.size,
      source: item.source,
      attestations: item.attestations.length,
    })),
    waitedMs: Math.round(outcome.wait.waitedMs),
  };
}

/**
 * Older Quay refuses an OCI index whose children are Docker v2 manifests. The index is still right, so this is a
 * warning with the way out, not an error.
 */
function checkMixedMediaTypes(mediaType: string, images: readonly PlatformImage[], log: Logger): void {
  if (mediaType !== OCI_INDEX) return;
  const docker = images.filter((image) => image.descriptor.mediaType === DOCKER_MANIFEST);
  if (docker.length === 0) return;
  log.warning(
    `the OCI index lists ${docker.length} Docker v2 image manifest(s) (${docker.map((i) => platformKey(i.descriptor.platform)).join(', ')}); ` +
      'older Quay versions refuse such an index. If yours does, build every platform with the same ' +
      'output type (BuildKit: oci-mediatypes=true), or use media-type: docker without annotations and attestations',
    'OCI index with Docker v2 children',
  );
}

/** Annotations whose usual value is the time of the build: each run would give a new digest. */
const WALL_CLOCK_ANNOTATIONS = ['org.opencontainers.image.created'];
const RECENT_MS = 6 * 60 * 60 * 1000;

function checkAnnotations(inputs: Inputs, clock: Clock, log: Logger): void {
  if (inputs.ignoredAnnotations.length) {
    log.info(
      `annotations: ${inputs.ignoredAnnotations.length} line(s) for other levels left out (only "index:" lines and ` +
        `plain key=value go on the index): ${inputs.ignoredAnnotations.join(', ')}`,
    );
  }
  for (const key of WALL_CLOCK_ANNOTATIONS) {
    const value = inputs.annotations[key];
    const time = value === undefined ? Number.NaN : Date.parse(value);
    if (Number.isNaN(time) || Math.abs(clock.date() - time) > RECENT_MS) continue;
    log.warning(
      `annotations: ${key}=${value} is the time of this run, so every run makes a new index digest and moves the ` +
        'tags even when the images are the same. Pin it to the commit time (github.event.head_commit.timestamp, ' +
        'or SOURCE_DATE_EPOCH with docker/metadata-action) or leave it out',
      'Annotation changes every run',
    );
  }
}
