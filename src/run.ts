import { agreedLabels } from './annotations.js';
import { type AssembleOptions, assemble } from './assemble.js';
import {
  type AttestationReferrer,
  attestationReferrers,
  storeAttestations,
} from './attestation-referrers.js';
import type { Clock } from './clock.js';
import { ConsistencyWait } from './consistency.js';
import type { RunContext } from './context.js';
import { INPUT, InputError } from './input-names.js';
import type { Inputs } from './inputs.js';
import { counted, type Logger } from './log.js';
import { checkOrderValue, ORDER_ANNOTATION, ORDER_EXAMPLE, type Ordering } from './ordering.js';
import { platformKey } from './platform.js';
import type { PlatformImage } from './platform-images.js';
import { planPromotion } from './promote.js';
import { partialWriteMessage, publish, readAllTags, writtenLine } from './publish.js';
import type { RegistryClient } from './registry/client.js';
import { DOCKER_MANIFEST, OCI_INDEX } from './registry/media-types.js';
import { sameRepository } from './registry/reference.js';
import { pinSources, resolveSources } from './resolve.js';
import { PartialPublishError, type Result, resultOf } from './result.js';
import { heldPlatformsReader } from './shrink.js';
import type { HeldManifests } from './tag-io.js';
import { bringIn, referrerBudget } from './transfer.js';

export interface RunDeps {
  readonly client: RegistryClient;
  readonly log: Logger;
  readonly clock: Clock;
  /** For `if-tag-exists: forward`: how indexes are ordered (the GitHub API for revisions). */
  readonly ordering?: Ordering;
  /**
   * The workflow's commit (`GITHUB_SHA`): with `forward` ordered by revision, an assembled index carries it unless
   * `annotations` gives one; a promoted index keeps its own.
   */
  readonly revision?: string;
}

/** Resolve -> wait -> assemble (or promote) -> publish. Takes its client, logger and clock; reads no environment. */
export async function run(given: Inputs, deps: RunDeps): Promise<Result> {
  const { client, log, clock } = deps;
  const inputs = withRevision(given, deps.revision);
  const { image } = inputs;
  const deadline = clock.now() + inputs.waitTimeoutMs;
  // Checked before any request, unless a promoted index may bring its own order annotation.
  const mayPromote = inputs.promote !== false && inputs.sources.length === 1;
  const early =
    inputs.ifTagExists === 'forward' && !mayPromote
      ? checkForward(inputs.orderBy, inputs.annotations, deps.ordering)
      : undefined;
  // One token per registry for the whole run: push on every image unless nothing is written, pull on sources.
  for (const target of inputs.targets)
    client.declare(target.image, inputs.dryRun ? ['pull'] : ['pull', 'push']);
  for (const source of inputs.sources) {
    if (!sameRepository(source.repository, image)) client.declare(source.repository, ['pull']);
  }
  const context: RunContext = { client, log, clock, deadline };
  const wait = new ConsistencyWait(context);
  const bring = { ...context, wait };
  // With `attestations: referrers` the attestations leave the index, and are stored as referrers instead.
  const asReferrers = inputs.attestations === 'referrers';
  const storesAttestations = asReferrers && !inputs.dryRun;
  // The tags are read once every copy into every image has finished and every source is served: with one image
  // and nothing to bring, beside the configs, the round right before the write (docs/adr/0008). Attestations
  // stored as referrers are stored first, so nothing but the writes comes after the read.
  // Without `platforms`, a tag is not moved to an index with fewer platforms than it holds: the tags are then read
  // whole (GET), so what each holds is known with the tag, at no round of its own.
  const checkShrink = inputs.platforms === undefined && inputs.ifTagExists === 'overwrite';
  const held: HeldManifests | undefined = checkShrink ? new Map() : undefined;
  const heldPlatforms = heldPlatformsReader(context, held);
  let states: ReturnType<typeof readAllTags> | undefined;
  const readStates = () => {
    if (!states) {
      states = readAllTags(inputs.targets, context, held);
      // Awaited in Publish; a run that fails before then must not also report this read unhandled.
      states.catch(() => {});
    }
    return states;
  };

  const resolved = await log.group('Resolve sources', async () => {
    const sources = await pinSources(inputs.sources, bring);
    const promotion = await planPromotion(given, sources, deps.revision, { wait, log });
    const forward =
      inputs.ifTagExists === 'forward'
        ? (early ?? checkForward(inputs.orderBy, promotion?.annotations ?? inputs.annotations, deps.ordering))
        : undefined;
    const referrers = inputs.referrers === 'copy';
    // The primary gets source indexes too (they are resolved there); the other images only what the sources
    // list, unless the index itself is published (a promotion), whose referrers then come along too.
    const indexes = promotion !== undefined;
    // One bound on the referrers followed for the whole run, whichever image they are brought into.
    const budget = referrerBudget();
    // Every other image gets the sources' content alongside, straight from where each source lives, so the
    // index can be stored there too before any tag moves anywhere.
    const others = Promise.all(
      inputs.dryRun
        ? []
        : inputs.targets.slice(1).map((target) => {
            const from = sources.filter((source) => !sameRepository(source.repository, target.image));
            return bringIn(from, target.image, bring, { indexes, referrers, budget });
          }),
    );
    // Awaited below; the tag read that waits on it must not report its failure unhandled.
    others.catch(() => {});
    const [primary, brought] = await Promise.all([
      (async () => {
        const foreign = sources.filter((s) => !sameRepository(s.repository, image));
        // A dry run writes nothing, not even into the image: it reads foreign sources where they are.
        const copied =
          foreign.length && !inputs.dryRun
            ? await bringIn(foreign, image, bring, {
                indexes: true,
                referrers,
                indexReferrers: indexes,
                budget,
              })
            : [];
        // A Docker manifest list takes no labels, nor does a promoted index: then configs need not be read.
        const options = { ...inputs, labels: inputs.mediaType !== 'docker' && !promotion };
        const images = await resolveSources(sources, options, {
          ...bring,
          image,
          readFromSources: inputs.dryRun,
          // Only started here: the read's own promise handles its failure (a promise that adopted it would not).
          ...(storesAttestations
            ? {}
            : {
                onServed: () =>
                  void others.then(
                    () => void readStates(),
                    () => {},
                  ),
              }),
        });
        return { images, copied };
      })(),
      others,
    ]);
    for (const item of primary.images) {
      log.info(`${platformKey(item.descriptor.platform)}: ${item.descriptor.digest} (from ${item.source})`);
    }
    return { sources, promotion, forward, images: primary.images, referrers: [primary.copied, ...brought] };
  });
  const { promotion, forward } = resolved;
  const images = asReferrers
    ? resolved.images.map((item) => ({ ...item, attestations: [] }))
    : resolved.images;
  const attestations = storesAttestations ? await attestationReferrers(resolved.images, image, wait) : [];

  const assembly: AssembleOptions = promotion
    ? { mediaType: inputs.mediaType, annotations: promotion.annotations }
    : {
        mediaType: inputs.mediaType,
        annotations: inputs.annotations,
        descriptorAnnotations: inputs.descriptorAnnotations,
        labels: agreedLabels(images.map((image) => image.labels)),
      };
  if (promotion) noticeUnplaced(inputs.unplacedAnnotations, log);
  const index =
    promotion?.index ??
    (await log.group('Assemble', async () => {
      checkAnnotations(inputs, clock, log);
      const assembled = assemble(images, assembly);
      log.info(
        `${assembled.mediaType} ${assembled.digest} (${assembled.bytes.length} bytes, ${counted(images.length, 'platform')})`,
      );
      logLabels(assembled.mediaType, assembly, log);
      logAttestations(inputs.attestations, resolved.images, attestations, inputs.dryRun, log);
      checkMixedMediaTypes(assembled.mediaType, images, log);
      return assembled;
    }));

  const outcomes = await log.group('Publish', async () => {
    const stored = await storeAttestations(inputs.targets, attestations, context);
    const published = await publish(
      inputs.targets,
      index,
      {
        ifTagExists: inputs.ifTagExists,
        dryRun: inputs.dryRun,
        states: readStates(),
        referrers: inputs.targets.map((_, i) => ({
          brought: resolved.referrers[i] ?? [],
          attestations: stored[i] ?? [],
        })),
        ...(checkShrink
          ? { keepPlatforms: images.map((image) => image.descriptor.platform), heldPlatforms }
          : {}),
        ...(forward
          ? {
              forward: {
                index,
                images,
                ...assembly,
                ordering: forward,
              },
            }
          : {}),
      },
      context,
    );
    log.info(writtenLine(published, inputs.dryRun));
    return published;
  });
  const result = resultOf(inputs.dryRun, resolved.images, index, outcomes, wait.waitedMs, {
    pinned: resolved.sources.flatMap((s) => (s.pinnedFrom ? [{ tag: s.pinnedFrom, digest: s.digest }] : [])),
    referrers: [
      ...resolved.referrers.flat().map((r) => r.descriptor.digest),
      ...attestations.map((a) => a.digest),
    ],
    promoted: promotion !== undefined,
    attestations: inputs.attestations,
  });
  if (outcomes.some((outcome) => outcome.failed.length > 0)) {
    throw new PartialPublishError(partialWriteMessage(index.digest, outcomes), result);
  }
  return result;
}

/** With `forward` ordered by revision, an assembled index carries the workflow's commit unless `annotations` gives one. */
function withRevision(inputs: Inputs, revision: string | undefined): Inputs {
  const key = ORDER_ANNOTATION.revision;
  if (inputs.ifTagExists !== 'forward' || inputs.orderBy !== 'revision') return inputs;
  if (inputs.annotations[key] !== undefined || !revision) return inputs;
  return { ...inputs, annotations: { ...inputs.annotations, [key]: revision } };
}

/** `forward` needs an ordering and the index's order annotation, valid: checked before anything is written. */
function checkForward(
  orderBy: Inputs['orderBy'],
  annotations: Readonly<Record<string, string>>,
  ordering: Ordering | undefined,
): Ordering {
  const problem = checkOrderValue(orderBy, annotations[ORDER_ANNOTATION[orderBy]]);
  if (problem) {
    throw new InputError(
      INPUT.annotations,
      `${problem} (if-tag-exists: forward, order-by: ${orderBy}): give it, e.g. ` +
        `${ORDER_ANNOTATION[orderBy]}=${ORDER_EXAMPLE[orderBy]}` +
        (orderBy === 'revision' ? '; the action adds the workflow commit (GITHUB_SHA) itself' : ''),
    );
  }
  if (!ordering) throw new Error('if-tag-exists: forward needs an ordering');
  return ordering;
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
/** How near to now a time must be to be this run's: the metadata step ran a couple of minutes before at most. */
const RECENT_MS = 2 * 60 * 1000;
/** What docker/metadata-action turns into the commit's time, in the form metadata-action itself writes. */
const COMMIT_DATE = "{{commit_date 'YYYY-MM-DDTHH:mm:ss.SSS[Z]'}}";

/** With `attestations: referrers`, says which attestation leaves the index for which referrer. */
function logAttestations(
  mode: Inputs['attestations'],
  images: readonly PlatformImage[],
  referrers: readonly AttestationReferrer[],
  dryRun: boolean,
  log: Logger,
): void {
  const count = images.reduce((sum, image) => sum + image.attestations.length, 0);
  // `drop` leaves them out while resolving: this run has none to place.
  if (count === 0 || mode !== 'referrers') return;
  if (dryRun) {
    log.info(`dry run: ${counted(count, 'attestation')} would leave the index and be stored as referrers`);
    return;
  }
  for (const r of referrers) {
    log.info(
      `attestation ${r.attestation} of ${r.platform}: leaves the index, to be stored as the referrer ${r.digest} of ${r.subject}`,
    );
  }
}

/** Says which labels became index annotations, and why none did on a Docker manifest list. */
function logLabels(mediaType: string, assembly: AssembleOptions, log: Logger): void {
  const labels = Object.keys(assembly.labels ?? {}).filter(
    (key) => !Object.hasOwn(assembly.annotations, key),
  );
  if (labels.length === 0) return;
  log.info(
    mediaType === OCI_INDEX
      ? `index annotations from the labels every platform agrees on: ${labels.join(', ')}`
      : `labels ${labels.join(', ')} are not on the index: a Docker manifest list has no annotations ` +
          '(media-type: oci, or any annotation, makes an OCI index)',
  );
}

/** One notice per level a merge cannot place, saying why and what to do instead. */
function noticeUnplaced(unplaced: Inputs['unplacedAnnotations'], log: Logger): void {
  const lines = (level: string) => unplaced.filter((u) => u.level === level).map((u) => u.line);
  const descriptor = lines('index-descriptor');
  if (descriptor.length) {
    log.info(
      `annotations: ${descriptor.length} index-descriptor: line(s) left out (${descriptor.join(', ')}): an index ` +
        'descriptor exists only inside another index or an OCI layout, and a registry stores none. Use index: ' +
        'for the index itself',
    );
  }
  const manifest = lines('manifest');
  if (manifest.length) {
    log.info(
      `annotations: ${manifest.length} manifest: line(s) not set (${manifest.join(', ')}): a platform image's ` +
        'manifest cannot change without changing its digest, which was built and tested. Set them at build time ' +
        "(docker/build-push-action's annotations input), and give this step index: or manifest-descriptor: " +
        'lines (docker/metadata-action with DOCKER_METADATA_ANNOTATIONS_LEVELS=index,manifest-descriptor)',
    );
  }
}

/**
 * Notices for annotations that other levels carry, a refusal for an empty creation time, and a warning for a
 * creation time that is this run's. Git keeps commit times in whole seconds, so a time with a fraction of a second
 * (metadata-action's default, `new Date().toISOString()`) is not the commit's; a whole-second time is taken for
 * the commit's, however recent, since a commit pushed a minute ago is still the commit.
 */
export function checkAnnotations(inputs: Inputs, clock: Clock, log: Logger): void {
  noticeUnplaced(inputs.unplacedAnnotations, log);
  for (const key of WALL_CLOCK_ANNOTATIONS) {
    const value = inputs.annotations[key];
    if (value === undefined) continue;
    if (value.trim() === '') {
      throw new InputError(
        INPUT.annotations,
        `${key} is empty: the expression that fills it gave nothing (github.event.head_commit.timestamp, for ` +
          `one, exists on push events only, not on workflow_dispatch). Give the commit's time with ` +
          `docker/metadata-action, ${key}=${COMMIT_DATE}, or leave the annotation out`,
      );
    }
    const time = Date.parse(value);
    const fraction = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(value)?.[1];
    const subSecond = fraction !== undefined && /[1-9]/.test(fraction);
    // The check runs after the wait for the registry, which may have taken up to wait-timeout.
    const age = clock.date() - time;
    if (Number.isNaN(time) || !subSecond || age > RECENT_MS + inputs.waitTimeoutMs || age < -RECENT_MS)
      continue;
    log.warning(
      `annotations: ${key}=${value} is the time of this run, not of the commit, so every run makes a new index ` +
        'digest and moves the tags even when the images are the same. Pin it to the commit with ' +
        `docker/metadata-action's annotations input, ${key}=${COMMIT_DATE}, or leave it out`,
      'Annotation changes every run',
    );
  }
}
