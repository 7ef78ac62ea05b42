import { INPUT, InputError } from './input-names.js';
import { type Platform, parsePlatform, platformKey, platformMatches, quote } from './platform.js';

/**
 * Annotations at every level docker/metadata-action and `docker buildx imagetools create --annotation` know:
 * `index:` (or no prefix) on the index, `manifest-descriptor:` on every platform entry of it, and the two levels a
 * merge cannot place (`index-descriptor:`, `manifest:`), kept only to say so. Also the image labels that become
 * index annotations when every platform agrees on them.
 */

/** A `manifest-descriptor:` annotation: on every platform entry, or on the entries of one platform. */
export interface DescriptorAnnotation {
  readonly key: string;
  readonly value: string;
  /** From `manifest-descriptor[linux/amd64]:`; absent means every platform. */
  readonly platform?: Platform;
}

/** Levels a merged index has no place for: `index-descriptor` lives in no registry, `manifest` is the build's. */
export type UnplacedLevel = 'index-descriptor' | 'manifest';

export interface ParsedAnnotations {
  /** `index:` and unprefixed lines: on the index. */
  readonly index: Readonly<Record<string, string>>;
  /** `manifest-descriptor:` lines, in the order given. */
  readonly descriptors: readonly DescriptorAnnotation[];
  /** Lines for levels a merge cannot set, as given, for a notice. */
  readonly unplaced: readonly { readonly level: UnplacedLevel; readonly line: string }[];
}

/** Control characters and Unicode line breaks. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** A metadata-action level prefix, with buildx's optional `[platform]` qualifier. */
const LEVEL = /^(index|manifest|index-descriptor|manifest-descriptor)(?:\[([^\]]*)\])?:/;
const EXAMPLE = 'e.g. org.opencontainers.image.source=https://github.com/org/app';

/** Parses the `annotations` input: one `[level[platform]:]key=value` a line. */
export function parseAnnotations(text: string): ParsedAnnotations {
  // A Map, not `{}`: keys such as `constructor` or `__proto__` must be plain keys, not Object.prototype's.
  const index = new Map<string, string>();
  const descriptors = new Map<string, DescriptorAnnotation>();
  const unplaced: { level: UnplacedLevel; line: string }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new InputError(INPUT.annotations, `${quote(line)} is not key=value: ${EXAMPLE}`);
    let key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const level = LEVEL.exec(key);
    const qualifier = level?.[2];
    if (level) key = key.slice(level[0].length).trim();
    if (!key) throw new InputError(INPUT.annotations, `${quote(line)} has an empty key: ${EXAMPLE}`);
    refuseControl(key, value);
    const name = level?.[1] ?? 'index';
    if (name === 'index-descriptor' || name === 'manifest') {
      unplaced.push({ level: name, line });
      continue;
    }
    const platform = qualifier === undefined ? undefined : qualifierPlatform(line, name, qualifier);
    if (name === 'index') {
      setOnce(index, key, value, key);
    } else {
      const id = `${platform ? platformKey(platform) : '*'} ${key}`;
      const shown = `manifest-descriptor${platform ? `[${platformKey(platform)}]` : ''}:${key}`;
      const previous = descriptors.get(id);
      if (previous !== undefined && previous.value !== value) duplicate(shown, previous.value, value);
      descriptors.set(id, { key, value, ...(platform ? { platform } : {}) });
    }
  }
  // fromEntries defines own properties, so `__proto__` becomes a real key that Object.keys and JSON see.
  return { index: Object.fromEntries(index), descriptors: [...descriptors.values()], unplaced };
}

function setOnce(map: Map<string, string>, key: string, value: string, shown: string): void {
  const previous = map.get(key);
  if (previous !== undefined && previous !== value) duplicate(shown, previous, value);
  map.set(key, value);
}

function duplicate(shown: string, previous: string, value: string): never {
  throw new InputError(
    INPUT.annotations,
    `${quote(shown)} is given twice, as ${quote(previous)} and ${quote(value)}: keep one line per key`,
  );
}

/** `manifest-descriptor[linux/arm64]:` names a platform; the index has no platform to name. */
function qualifierPlatform(line: string, level: string, qualifier: string): Platform | undefined {
  if (level === 'index') {
    throw new InputError(
      INPUT.annotations,
      `${quote(line)}: the index has no platform; write index:key=value, or manifest-descriptor[${qualifier}]:key=value ` +
        'for the entry of that platform',
    );
  }
  try {
    return parsePlatform(qualifier, 'platform');
  } catch {
    throw new InputError(
      INPUT.annotations,
      `${quote(line)}: ${quote(qualifier)} is not a platform: write ${level}[linux/amd64]:key=value, or leave ` +
        'out the brackets for every platform',
    );
  }
}

/** Annotations end up in logs and the index: a control character could start a workflow command. */
function refuseControl(key: string, value: string): void {
  const where = CONTROL.test(key) ? 'key' : CONTROL.test(value) ? 'value' : undefined;
  if (where === undefined) return;
  throw new InputError(
    INPUT.annotations,
    `${quote(key)} has a control character in its ${where} (${quote(value)}): ` +
      'write each annotation as key=value on one line of printable text',
  );
}

/**
 * The annotations one platform entry gets: its own (from a source index), then every `manifest-descriptor:` line
 * for all platforms, then those naming its platform, later ones winning. Undefined when there are none.
 */
export function entryAnnotations(
  own: Readonly<Record<string, string>> | undefined,
  platform: Platform,
  descriptors: readonly DescriptorAnnotation[],
): Readonly<Record<string, string>> | undefined {
  if (descriptors.length === 0) return own;
  const merged = new Map(Object.entries(own ?? {}));
  for (const general of [true, false]) {
    for (const d of descriptors) {
      if ((d.platform === undefined) !== general) continue;
      if (d.platform && !platformMatches(d.platform, platform)) continue;
      merged.set(d.key, d.value);
    }
  }
  return merged.size ? Object.fromEntries(merged) : undefined;
}

/** The image labels an OCI index takes as its annotations (what GHCR shows on a multi-arch package page). */
export const INDEX_LABELS = [
  'org.opencontainers.image.title',
  'org.opencontainers.image.description',
  'org.opencontainers.image.source',
  'org.opencontainers.image.url',
  'org.opencontainers.image.documentation',
  'org.opencontainers.image.licenses',
  'org.opencontainers.image.vendor',
] as const;

/** Longest label value copied: a description, a URL or an SPDX expression; longer is not a package summary. */
export const MAX_LABEL_CHARS = 4096;

/**
 * The `INDEX_LABELS` of one image config (`config.Labels`), those with a usable value: a non-empty string of
 * printable text, at most MAX_LABEL_CHARS. Anything else from the registry is treated as absent.
 */
export function indexLabelsOf(config: unknown): Record<string, string> {
  const inner = (config as { config?: { Labels?: unknown } } | undefined)?.config;
  const labels = inner?.Labels;
  const found = new Map<string, string>();
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return {};
  for (const key of INDEX_LABELS) {
    if (!Object.hasOwn(labels, key)) continue;
    const value = (labels as Record<string, unknown>)[key];
    if (typeof value !== 'string') continue;
    const trimmed = value.trim();
    if (trimmed && trimmed.length <= MAX_LABEL_CHARS && !CONTROL.test(trimmed)) found.set(key, trimmed);
  }
  return Object.fromEntries(found);
}

/**
 * The labels every image carries with the same value. An image whose labels were not read (undefined), or that
 * lacks a label, is not in agreement: the result never claims more than every platform says.
 */
export function agreedLabels(
  perImage: readonly (Readonly<Record<string, string>> | undefined)[],
): Record<string, string> {
  const agreed = new Map<string, string>();
  if (perImage.length === 0) return {};
  for (const key of INDEX_LABELS) {
    const values = new Set(perImage.map((labels) => (labels ? labels[key] : undefined)));
    const [value] = values;
    if (values.size === 1 && value !== undefined) agreed.set(key, value);
  }
  return Object.fromEntries(agreed);
}
