import type { AssembledIndex } from './assemble.js';
import type { ConsistencyWait } from './consistency.js';
import { errorMessage } from './errors.js';
import { INPUT, InputError } from './input-names.js';
import type { Inputs } from './inputs.js';
import type { Logger } from './log.js';
import { ORDER_ANNOTATION } from './ordering.js';
import { isStringRecord } from './registry/descriptor.js';
import { isLag } from './registry/errors.js';
import { DOCKER_LIST, isIndexMediaType, OCI_INDEX } from './registry/media-types.js';
import { canonicalName } from './registry/reference.js';
import type { SourceEntry } from './sources.js';

/**
 * Promotion (SPEC "Promotion: one index, published as it is"): a single source that is an index is published byte
 * for byte, so the promoted tags provably hold what was tested. `promote: auto` does so unless an option would
 * change the index, and then assembles anew with a notice; `true` refuses any change; `false` never promotes.
 */

export interface Promotion {
  readonly source: SourceEntry;
  /** The source's exact bytes, media type and digest: what every tag gets. */
  readonly index: AssembledIndex;
  /** The index's own annotations: `forward` orders by them. */
  readonly annotations: Readonly<Record<string, string>>;
}

/** An option that would change the index, the input that sets it, and how to keep the index as it is. */
export interface Change {
  readonly input: string;
  readonly why: string;
  readonly fix: string;
}

/**
 * Whether this run promotes, read from the single source (waited for like any source). Throws the input error
 * `promote: true` asks for when it cannot, before anything is written anywhere.
 */
export async function planPromotion(
  inputs: Inputs,
  sources: readonly SourceEntry[],
  revision: string | undefined,
  context: { readonly wait: ConsistencyWait; readonly log: Logger },
): Promise<Promotion | undefined> {
  if (inputs.promote === false) return undefined;
  const demanded = inputs.promote === true;
  const [source] = sources;
  if (sources.length !== 1 || source === undefined) {
    if (!demanded) return undefined;
    throw new InputError(
      INPUT.promote,
      `true publishes one index byte for byte, but ${sources.length} sources are given ` +
        `(${sources.map((s) => `"${s.text}"`).join(', ')}): give the one index to promote (by digest or tag), ` +
        'or set promote: auto to merge them',
    );
  }
  const manifest = await context.wait.manifest(source.repository, source.digest).catch((error: unknown) => {
    if (!isLag(error)) throw error;
    throw new Error(
      `sources: "${source.text}": ${canonicalName(source.repository)} still does not serve ${source.digest} after ` +
        `wait-timeout (${errorMessage(error)}). Check the digest and repository, or raise wait-timeout`,
    );
  });
  const { mediaType, digest } = manifest.descriptor;
  if (!isIndexMediaType(mediaType)) {
    if (!demanded) return undefined;
    throw new InputError(
      INPUT.promote,
      `true publishes an index byte for byte, but "${source.text}" is a single image (${digest}): give the ` +
        'multi-platform index to promote, or set promote: auto to publish an index of this one image',
    );
  }
  const annotations = isStringRecord(manifest.json['annotations']) ? manifest.json['annotations'] : {};
  const changes = changesTo(inputs, revision, { mediaType, json: manifest.json, annotations });
  const [change] = changes;
  if (change && demanded) {
    throw new InputError(
      change.input,
      `promote: true publishes "${source.text}" (${digest}) byte for byte, but ${change.why}: ${change.fix}, or ` +
        'set promote: auto to publish an index assembled anew',
    );
  }
  if (change) {
    context.log.warning(
      `promote: auto: "${source.text}" is an index, but ${changes.map((c) => c.why).join('; ')}, so it is ` +
        `assembled anew and its digest differs from the source's ${digest}. Set promote: true to refuse such ` +
        'a change instead',
      'Index assembled anew',
    );
    return undefined;
  }
  context.log.info(`promote: "${source.text}" is published byte for byte as ${digest}`);
  return { source, index: { mediaType, bytes: manifest.bytes, digest }, annotations };
}

/**
 * What the options would change in the index, in the order of the inputs. An annotation the index already
 * carries with that value changes nothing; with `forward`, the index's own order annotation is used, so the
 * workflow's commit (`revision`) added by default is no change, but an index without one must be given one.
 */
export function changesTo(
  inputs: Pick<
    Inputs,
    'annotations' | 'descriptorAnnotations' | 'attestations' | 'mediaType' | 'ifTagExists' | 'orderBy'
  >,
  revision: string | undefined,
  index: {
    readonly mediaType: string;
    readonly json: Record<string, unknown>;
    readonly annotations: Readonly<Record<string, string>>;
  },
): Change[] {
  const changes: Change[] = [];
  const differing = Object.entries(inputs.annotations).filter(
    ([key, value]) => index.annotations[key] !== value,
  );
  if (differing.length) {
    changes.push({
      input: INPUT.annotations,
      why: `annotations would set ${differing.map(([key, value]) => `${key}=${value}`).join(', ')} on it`,
      fix: 'remove them (an index carries its annotations from its build)',
    });
  }
  if (inputs.descriptorAnnotations.length) {
    changes.push({
      input: INPUT.annotations,
      why: `annotations would set ${inputs.descriptorAnnotations.map((a) => `manifest-descriptor:${a.key}=${a.value}`).join(', ')} on its entries`,
      fix: 'remove them',
    });
  }
  const attestations = attestationCount(index.json);
  if (inputs.attestations !== 'keep' && attestations > 0) {
    changes.push({
      input: INPUT.attestations,
      why: `attestations: ${inputs.attestations} would take its ${attestations} attestation manifest(s) out`,
      fix: 'set attestations: keep',
    });
  }
  const wanted =
    inputs.mediaType === 'oci' ? OCI_INDEX : inputs.mediaType === 'docker' ? DOCKER_LIST : undefined;
  if (wanted !== undefined && wanted !== index.mediaType) {
    changes.push({
      input: INPUT.mediaType,
      why: `media-type: ${inputs.mediaType} would turn its ${index.mediaType} into a ${wanted}`,
      fix: 'set media-type: auto',
    });
  }
  if (inputs.ifTagExists === 'forward') {
    const key = ORDER_ANNOTATION[inputs.orderBy];
    const given = inputs.annotations[key] ?? (inputs.orderBy === 'revision' ? revision : undefined);
    if (index.annotations[key] === undefined && given !== undefined && !differing.some(([k]) => k === key)) {
      changes.push({
        input: INPUT.ifTagExists,
        why: `if-tag-exists: forward needs ${key} on the index, which it lacks`,
        fix: `build the index with ${key}, or use another if-tag-exists`,
      });
    }
  }
  return changes;
}

/** Entries that are attestations: BuildKit's annotated ones, and typed artifacts without a runnable platform. */
function attestationCount(json: Record<string, unknown>): number {
  const manifests = Array.isArray(json['manifests']) ? (json['manifests'] as unknown[]) : [];
  return manifests.filter((raw) => {
    const entry = (raw ?? {}) as { annotations?: Record<string, unknown>; platform?: { os?: unknown } };
    return (
      entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
      entry.platform?.os === 'unknown'
    );
  }).length;
}
