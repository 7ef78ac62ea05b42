import type { Platform } from './platform.js';
import type { Descriptor } from './registry/descriptor.js';
import { type IndexMediaType, OCI_MANIFEST } from './registry/media-types.js';

/**
 * The one JSON serialisation of an index (SPEC Guarantee 1, ADR 0003): keys in a fixed order, no whitespace.
 * The text is written from ordered field lists rather than objects, so neither the key order of the caller's
 * objects nor JavaScript's rule of enumerating integer-like keys (an annotation named "10") first can change
 * the bytes.
 */
export function indexJson(
  mediaType: IndexMediaType,
  entries: readonly Descriptor[],
  annotations: Readonly<Record<string, string>>,
): string {
  return objectJson([
    ['schemaVersion', '2'],
    ['mediaType', JSON.stringify(mediaType)],
    ['manifests', `[${entries.map(descriptorJson).join(',')}]`],
    ['annotations', annotationsJson(annotations)],
  ]);
}

/**
 * An OCI image manifest that refers to `subject` (an attestation stored as a referrer): the given config and layers
 * in the same fixed serialisation as an index, so the same attestation gives the same referrer digest every run.
 */
export function referrerManifestJson(parts: {
  readonly artifactType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject: Descriptor;
  readonly annotations: Readonly<Record<string, string>>;
}): string {
  return objectJson([
    ['schemaVersion', '2'],
    ['mediaType', JSON.stringify(OCI_MANIFEST)],
    ['artifactType', JSON.stringify(parts.artifactType)],
    ['config', descriptorJson(parts.config)],
    ['layers', `[${parts.layers.map(descriptorJson).join(',')}]`],
    ['subject', descriptorJson(parts.subject)],
    ['annotations', annotationsJson(parts.annotations)],
  ]);
}

/** A field name and its value as JSON text; undefined leaves the field out. */
type Field = readonly [name: string, json: string | undefined];

function objectJson(fields: readonly Field[]): string {
  const written = fields.flatMap(([name, json]) =>
    json === undefined ? [] : [`${JSON.stringify(name)}:${json}`],
  );
  return `{${written.join(',')}}`;
}

export function descriptorJson(d: Descriptor): string {
  return objectJson([
    ['mediaType', JSON.stringify(d.mediaType)],
    ['digest', JSON.stringify(d.digest)],
    ['size', JSON.stringify(d.size)],
    ['artifactType', d.artifactType ? JSON.stringify(d.artifactType) : undefined],
    ['platform', d.platform && platformJson(d.platform)],
    ['annotations', d.annotations && annotationsJson(d.annotations)],
  ]);
}

/** The OCI image-index field order; absent and empty fields are left out rather than written empty. */
function platformJson(p: Platform): string {
  const features = p['os.features'];
  return objectJson([
    ['architecture', JSON.stringify(p.architecture)],
    ['os', JSON.stringify(p.os)],
    ['os.version', p['os.version'] ? JSON.stringify(p['os.version']) : undefined],
    ['os.features', features && features.length > 0 ? JSON.stringify(features) : undefined],
    ['variant', p.variant ? JSON.stringify(p.variant) : undefined],
  ]);
}

/** Keys sorted; undefined when there are none, so an empty map is left out rather than written `{}`. */
function annotationsJson(annotations: Readonly<Record<string, string>>): string | undefined {
  const keys = sortKeys(Object.keys(annotations));
  if (keys.length === 0) return undefined;
  return objectJson(keys.map((key) => [key, JSON.stringify(annotations[key])]));
}

/**
 * Code-point order, which is UTF-8 byte order (as Go and most registries' tools sort): plain `<` compares
 * UTF-16 units and differs for characters outside the Basic Multilingual Plane. Locale collation would vary.
 */
export function sortKeys(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
