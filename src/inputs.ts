import { type DescriptorAnnotation, type ParsedAnnotations, parseAnnotations } from './annotations.js';
import type { MediaTypeChoice } from './assemble.js';
import { INPUT, InputError, listOf } from './input-names.js';
import type { OrderBy } from './ordering.js';
import { type Platform, parsePlatform, platformMatches, quote } from './platform.js';
import type { IfTagExists } from './publish.js';
import type { Repository } from './registry/reference.js';
import { parseSources, type SourceInput } from './sources.js';
import { parseTargets, type Target } from './targets.js';

export { INPUT, InputError, type InputName } from './input-names.js';

type DefaultedInput =
  | typeof INPUT.attestations
  | typeof INPUT.referrers
  | typeof INPUT.promote
  | typeof INPUT.mediaType
  | typeof INPUT.ifTagExists
  | typeof INPUT.orderBy
  | typeof INPUT.waitTimeout
  | typeof INPUT.dryRun
  | typeof INPUT.plainHttp;

/** The defaults of action.yml, applied here too so the CLI behaves the same. */
export const DEFAULTS: Readonly<Record<DefaultedInput, string>> = {
  [INPUT.attestations]: 'keep',
  [INPUT.referrers]: 'copy',
  [INPUT.promote]: 'auto',
  [INPUT.mediaType]: 'auto',
  [INPUT.ifTagExists]: 'overwrite',
  [INPUT.orderBy]: 'revision',
  [INPUT.waitTimeout]: '120s',
  [INPUT.dryRun]: 'false',
  [INPUT.plainHttp]: 'auto',
};

export interface Inputs {
  /** The primary image (the first of `image`): sources given as a bare digest live here. */
  readonly image: Repository;
  /** Every image, the primary first, each with its tags (deduplicated, in the order given). */
  readonly targets: readonly Target[];
  /** `sources` then `sources-dir`, one entry per repository and digest (or tag, pinned when the run starts). */
  readonly sources: readonly SourceInput[];
  readonly platforms: readonly Platform[] | undefined;
  /** Where buildx attestation manifests go: in the index, nowhere, or out of it as OCI referrers of their images. */
  readonly attestations: 'keep' | 'drop' | 'referrers';
  /** Referrers of content published into another repository: copied, or left where they are. */
  readonly referrers: 'copy' | 'skip';
  /** A single index source published byte for byte: when nothing changes it, always, never. */
  readonly promote: 'auto' | boolean;
  /** Index annotations: `index:` lines and plain key=value. */
  readonly annotations: Readonly<Record<string, string>>;
  /** `manifest-descriptor:` lines: on every platform entry of the index (or those of the platform named). */
  readonly descriptorAnnotations: readonly DescriptorAnnotation[];
  /** `index-descriptor:` and `manifest:` lines, which a merge cannot place; the caller says so. */
  readonly unplacedAnnotations: ParsedAnnotations['unplaced'];
  readonly mediaType: MediaTypeChoice;
  readonly ifTagExists: IfTagExists;
  /** For `if-tag-exists: forward`: what makes one index newer than another. */
  readonly orderBy: OrderBy;
  readonly waitTimeoutMs: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly githubToken: string | undefined;
  readonly dryRun: boolean;
  readonly plainHttp: 'auto' | boolean;
}

export interface InputSources {
  /** Returns the raw input ('' when unset), like core.getInput. */
  read(name: string): string;
  /** Lists file names in a folder (for sources-dir); throws if missing. */
  listDir(path: string): string[];
  /** Called with each secret (password, github-token) the moment it is read, before anything else happens. */
  secret(value: string): void;
}

const MAX_TIMEOUT_MS = 6 * 3600_000;
const DURATION_EXAMPLES = 'e.g. 90s, 2m, 1m30s, 500ms, 1h or 120 (seconds)';
const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

/** Reads, validates and normalises every input; throws InputError on the first wrong one. */
export function parseInputs(source: InputSources): Inputs {
  // Secrets first, so they are masked before any other input (or error) can echo them.
  const password = readSecret(source, INPUT.password);
  const githubToken = readSecret(source, INPUT.githubToken);
  try {
    return parseRest(source, password, githubToken);
  } catch (error) {
    throw redact(error, [password, githubToken]);
  }
}

function parseRest(
  source: InputSources,
  password: string | undefined,
  githubToken: string | undefined,
): Inputs {
  const get = (name: string): string => source.read(name).trim();
  const orDefault = (name: DefaultedInput): string => get(name) || DEFAULTS[name];

  const targets = parseTargets(get(INPUT.image), get(INPUT.tags));
  const image = (targets[0] as Target).image;
  const sources = parseSources(get(INPUT.sources), get(INPUT.sourcesDir), image, (path) =>
    source.listDir(path),
  );
  const platformsText = get(INPUT.platforms);
  const platforms = platformsText ? parsePlatforms(platformsText) : undefined;
  const attestations = parseChoice(INPUT.attestations, orDefault(INPUT.attestations), [
    'keep',
    'drop',
    'referrers',
  ]);
  const referrers = parseChoice(INPUT.referrers, orDefault(INPUT.referrers), ['copy', 'skip']);
  const promoteText = orDefault(INPUT.promote);
  const promote = promoteText === 'auto' ? 'auto' : booleanOf(promoteText);
  if (promote === undefined) {
    throw new InputError(INPUT.promote, `"${promoteText}" is not allowed: write auto, true or false`);
  }
  const parsed = parseAnnotations(get(INPUT.annotations));
  const mediaType = parseChoice(INPUT.mediaType, orDefault(INPUT.mediaType), ['auto', 'oci', 'docker']);
  const ifTagExists = parseChoice(INPUT.ifTagExists, orDefault(INPUT.ifTagExists), [
    'overwrite',
    'fail',
    'skip',
    'forward',
  ]);
  const orderBy = parseChoice(INPUT.orderBy, orDefault(INPUT.orderBy), ['revision', 'version', 'created']);
  const waitTimeoutMs = parseDuration(orDefault(INPUT.waitTimeout), INPUT.waitTimeout);
  const username = get(INPUT.username) || undefined;
  if (username !== undefined && password === undefined) {
    throw new InputError(
      INPUT.password,
      `required when "username" is set: give both or neither, e.g. password: \${{ secrets.REGISTRY_TOKEN }}`,
    );
  }
  if (password !== undefined && username === undefined) {
    throw new InputError(
      INPUT.username,
      `required when "password" is set: give both or neither, e.g. username: \${{ github.actor }}`,
    );
  }
  const dryRun = parseBoolean(orDefault(INPUT.dryRun), INPUT.dryRun);
  const plainHttpText = orDefault(INPUT.plainHttp);
  const plainHttp = plainHttpText === 'auto' ? 'auto' : booleanOf(plainHttpText);
  if (plainHttp === undefined) {
    throw new InputError(INPUT.plainHttp, `"${plainHttpText}" is not allowed: write auto, true or false`);
  }
  return {
    image,
    targets,
    sources,
    platforms,
    attestations,
    referrers,
    promote,
    annotations: parsed.index,
    descriptorAnnotations: parsed.descriptors,
    unplacedAnnotations: parsed.unplaced,
    mediaType,
    ifTagExists,
    orderBy,
    waitTimeoutMs,
    username,
    password,
    githubToken,
    dryRun,
    plainHttp,
  };
}

function readSecret(source: InputSources, name: string): string | undefined {
  const value = source.read(name).trim();
  if (!value) return undefined;
  source.secret(value);
  return value;
}

/** A message may echo any input, and a secret pasted into the wrong one must still not show. */
function redact(error: unknown, secrets: readonly (string | undefined)[]): unknown {
  // Also the JSON-escaped form, since some messages quote values with JSON.stringify.
  const present = secrets
    .filter((s): s is string => !!s)
    .flatMap((s) => [s, JSON.stringify(s).slice(1, -1)])
    .sort((a, b) => b.length - a.length);
  if (!(error instanceof Error) || present.length === 0) return error;
  const mask = (text: string): string => present.reduce((t, secret) => t.split(secret).join('***'), text);
  if (error instanceof InputError) {
    const prefix = `input "${error.input}": `;
    const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return new InputError(error.input, mask(detail));
  }
  error.message = mask(error.message);
  if (error.stack) error.stack = mask(error.stack);
  return error;
}

function parsePlatforms(text: string): Platform[] {
  const platforms: Platform[] = [];
  for (const item of listOf(text)) {
    let platform: Platform;
    try {
      platform = parsePlatform(item, 'platform');
    } catch {
      // Quoted: the item may hold a control character, the reason it was refused.
      throw new InputError(
        INPUT.platforms,
        `${quote(item)} is not a platform: write <os>/<arch>[/<variant>], e.g. linux/amd64,linux/arm64,linux/arm/v7`,
      );
    }
    if (!platforms.some((p) => platformMatches(p, platform) && platformMatches(platform, p))) {
      platforms.push(platform);
    }
  }
  if (platforms.length === 0) {
    throw new InputError(
      INPUT.platforms,
      `no platforms in ${JSON.stringify(text)}: e.g. linux/amd64,linux/arm64`,
    );
  }
  return platforms;
}

function parseChoice<T extends string>(input: string, text: string, allowed: readonly T[]): T {
  const found = allowed.find((choice) => choice === text);
  if (found === undefined) {
    throw new InputError(input, `"${text}" is not allowed: write one of ${allowed.join(', ')}`);
  }
  return found;
}

/** YAML 1.2 core schema booleans, as the runner passes them. */
function booleanOf(text: string): boolean | undefined {
  if (TRUE.includes(text)) return true;
  if (FALSE.includes(text)) return false;
  return undefined;
}

function parseBoolean(text: string, input: string): boolean {
  const value = booleanOf(text);
  if (value === undefined) throw new InputError(input, `"${text}" is not a boolean: write true or false`);
  return value;
}

const UNIT_MS = { h: 3600_000, m: 60_000, s: 1000, ms: 1 } as const;

/** Parses `90s`, `2m`, `1m30s`, `500ms`, `1h` or plain seconds (`120`) into milliseconds, > 0 and ≤ 6h. */
export function parseDuration(text: string, input: string): number {
  const trimmed = text.trim();
  let ms: number | undefined;
  if (/^\d+$/.test(trimmed)) {
    ms = Number(trimmed) * 1000;
  } else {
    const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(trimmed);
    if (match && trimmed !== '') {
      const [, h, m, s, milli] = match;
      ms =
        Number(h ?? 0) * UNIT_MS.h +
        Number(m ?? 0) * UNIT_MS.m +
        Number(s ?? 0) * UNIT_MS.s +
        Number(milli ?? 0);
    }
  }
  if (ms === undefined) {
    throw new InputError(input, `"${trimmed}" is not a duration: ${DURATION_EXAMPLES}`);
  }
  if (!(ms > 0 && ms <= MAX_TIMEOUT_MS)) {
    throw new InputError(input, `"${trimmed}" must be more than 0 and at most 6h: ${DURATION_EXAMPLES}`);
  }
  return ms;
}
