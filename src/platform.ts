/** A platform as the OCI image index describes it. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
}

const WORD = /^[a-z0-9][a-z0-9._-]*$/;

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
 * nothing are left out (`linux/arm64/v8` is `linux/arm64`), so e2e jobs can look up the names they build with.
 */
export function platformKey(platform: Platform): string {
  const base = [platform.os, platform.architecture, normalVariant(platform)].filter(Boolean).join('/');
  return platform['os.version'] ? `${base}:${platform['os.version']}` : base;
}

/** Variants that mean the same as none, as container runtimes normalise them. */
function normalVariant(platform: Platform): string {
  const variant = platform.variant ?? '';
  if (platform.architecture === 'arm64' && variant === 'v8') return '';
  if (platform.architecture === 'amd64' && variant === 'v1') return '';
  return variant;
}

/**
 * Whether an asserted or expected platform matches an image's: os and architecture equal, variants equal after
 * normalisation (`linux/arm64` is `linux/arm64/v8`), and os.version equal when the assertion gives one.
 */
export function platformMatches(expected: Platform, actual: Platform): boolean {
  return (
    expected.os === actual.os &&
    expected.architecture === actual.architecture &&
    normalVariant(expected) === normalVariant(actual) &&
    (expected['os.version'] === undefined || expected['os.version'] === actual['os.version'])
  );
}

function compareText(a: string | undefined, b: string | undefined): number {
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

/** Reads a platform from an image config or an index descriptor; undefined when os or architecture is missing. */
export function platformFrom(value: unknown): Platform | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof v['os'] !== 'string' ||
    typeof v['architecture'] !== 'string' ||
    !v['os'] ||
    !v['architecture']
  ) {
    return undefined;
  }
  const features = v['os.features'];
  return {
    os: v['os'],
    architecture: v['architecture'],
    ...(typeof v['variant'] === 'string' && v['variant'] ? { variant: v['variant'] } : {}),
    ...(typeof v['os.version'] === 'string' && v['os.version'] ? { 'os.version': v['os.version'] } : {}),
    ...(Array.isArray(features) && features.length && features.every((f) => typeof f === 'string')
      ? { 'os.features': features as string[] }
      : {}),
  };
}
