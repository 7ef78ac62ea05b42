/** A platform as the OCI image index describes it. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
}

const WORD = /^[a-z0-9][a-z0-9._-]*$/;
/** A platform field from a registry: enough for os.version and features, nothing that can break a line. */
const TOKEN = /^[A-Za-z0-9._+-]{1,128}$/;
/** Control characters and Unicode line breaks: in a log line they could start a workflow command. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const SHOWN_CHARS = 80;

/** A registry gave a platform field that is not a short token; the message shows the value escaped and cut. */
export class InvalidPlatformError extends Error {
  override readonly name = 'InvalidPlatformError';
  readonly field: string;

  constructor(field: string, value: string) {
    super(
      `platform field "${field}" is ${quote(value, SHOWN_CHARS)}, not a short token (letters, digits, ".", "_", "+", "-")`,
    );
    this.field = field;
  }
}

/** What JSON.stringify leaves as is but a log line must not hold raw: C1 controls, format characters, line breaks. */
const UNSHOWN = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * `value` JSON-quoted, with every control, format and line-break character escaped, so it cannot start a
 * workflow command or hide text; cut after the quote (`"abc"…`) past `max` characters. Printable non-ASCII
 * stays, so a redaction of the JSON-escaped form of a secret still finds it.
 */
export function quote(value: string, max = Number.POSITIVE_INFINITY): string {
  let text = '';
  for (const char of value) {
    const escaped = JSON.stringify(char).slice(1, -1).replace(UNSHOWN, unicodeEscape);
    if (text.length + escaped.length > max) return `"${text}"…`;
    text += escaped;
  }
  return `"${text}"`;
}

/** `\uXXXX` per UTF-16 unit, as JSON writes it. */
function unicodeEscape(char: string): string {
  return char
    .split('')
    .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .join('');
}

/**
 * Parses `os/arch[/variant]`, as `platforms` and `<platform>=` prefixes give it; `what` names the input.
 * `os.version` may follow after a colon (`windows/amd64:10.0.20348.2113`), as in the output keys.
 */
export function parsePlatform(text: string, what: string): Platform {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const path = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
  const osVersion = colon >= 0 ? trimmed.slice(colon + 1) : undefined;
  const parts = path.split('/');
  const [os, architecture, variant] = parts;
  if (osVersion !== undefined && CONTROL.test(osVersion)) {
    throw new Error(
      `${what}: ${quote(trimmed)} has a control character in its os.version: ` +
        'write it on one line as the image gives it, e.g. windows/amd64:10.0.20348.2113',
    );
  }
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => WORD.test(p)) || osVersion === '') {
    throw new Error(
      `${what}: "${trimmed}" is not a platform: write os/architecture[/variant], e.g. linux/amd64 or linux/arm/v7`,
    );
  }
  return {
    os: os as string,
    architecture: architecture as string,
    ...(variant === undefined ? {} : { variant }),
    ...(osVersion === undefined ? {} : { 'os.version': osVersion }),
  };
}

/**
 * The output key: `os/architecture[/variant]`, then `:os.version` where present (Windows). Variants that mean
 * nothing are left out (`linux/arm64/v8` is `linux/arm64`), so e2e jobs can look up the names they build with;
 * others are kept, even when implied (`linux/arm` is `linux/arm/v7`).
 */
export function platformKey(platform: Platform): string {
  const base = [platform.os, platform.architecture, keyVariant(platform)].filter(Boolean).join('/');
  return platform['os.version'] ? `${base}:${platform['os.version']}` : base;
}

/**
 * The variant an architecture has when none is given, as container runtimes normalise them; `inKey` says
 * whether output keys show it (arm/v7 differs from arm/v6, but arm64/v8 and amd64/v1 are what everyone means).
 * A Map, so an architecture such as "constructor" finds nothing.
 */
const DEFAULT_VARIANT = new Map<string, { readonly variant: string; readonly inKey: boolean }>([
  ['arm', { variant: 'v7', inKey: true }],
  ['arm64', { variant: 'v8', inKey: false }],
  ['amd64', { variant: 'v1', inKey: false }],
]);

/** The variant spelled out: `linux/arm` is `linux/arm/v7`. */
function fullVariant(platform: Platform): string {
  return platform.variant || DEFAULT_VARIANT.get(platform.architecture)?.variant || '';
}

function keyVariant(platform: Platform): string {
  const variant = fullVariant(platform);
  const implied = DEFAULT_VARIANT.get(platform.architecture);
  return implied && !implied.inKey && implied.variant === variant ? '' : variant;
}

/**
 * Whether an asserted or expected platform matches an image's: os and architecture equal, variants equal once
 * spelled out (`linux/arm64` is `linux/arm64/v8`, `linux/arm` is `linux/arm/v7`), and os.version equal when the
 * assertion gives one.
 */
export function platformMatches(expected: Platform, actual: Platform): boolean {
  return (
    expected.os === actual.os &&
    expected.architecture === actual.architecture &&
    fullVariant(expected) === fullVariant(actual) &&
    (expected['os.version'] === undefined || expected['os.version'] === actual['os.version'])
  );
}

/** Plain code-unit order of two texts, absent as empty: the order every sort of this project uses. */
export function compareText(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The index order of SPEC guarantee 1: os, architecture, variant, os.version, os.features. */
export function comparePlatforms(a: Platform, b: Platform): number {
  return (
    compareText(a.os, b.os) ||
    compareText(a.architecture, b.architecture) ||
    compareText(a.variant, b.variant) ||
    compareText(a['os.version'], b['os.version']) ||
    compareText(
      [...(a['os.features'] ?? [])].sort().join(','),
      [...(b['os.features'] ?? [])].sort().join(','),
    )
  );
}

/**
 * Reads a platform from an image config or an index descriptor; undefined when os or architecture is missing.
 * The registry is untrusted and its fields end up in logs, output keys and the index, so each field kept must
 * be a short token: throws InvalidPlatformError otherwise.
 */
export function platformFrom(value: unknown): Platform | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const os = v['os'];
  const architecture = v['architecture'];
  if (typeof os !== 'string' || typeof architecture !== 'string' || !os || !architecture) return undefined;
  const variant = v['variant'];
  const osVersion = v['os.version'];
  const features = v['os.features'];
  return {
    os: token('os', os),
    architecture: token('architecture', architecture),
    ...(typeof variant === 'string' && variant ? { variant: token('variant', variant) } : {}),
    ...(typeof osVersion === 'string' && osVersion ? { 'os.version': token('os.version', osVersion) } : {}),
    ...(Array.isArray(features) && features.length && features.every((f) => typeof f === 'string')
      ? { 'os.features': features.map((f: string) => token('os.features', f)) }
      : {}),
  };
}

function token(field: string, value: string): string {
  if (!TOKEN.test(value)) throw new InvalidPlatformError(field, value);
  return value;
}
