import type { MediaTypeChoice, SourceEntry } from './model.js';
import { type Platform, parsePlatform, platformKey, platformMatches, quote } from './platform.js';
import { type Digest, isDigest } from './registry/digest.js';
import {
  canonicalName,
  isValidTag,
  parseRepository,
  type Repository,
  sameRepository,
} from './registry/reference.js';

/** The input names, shared by action.yml and the CLI flags. */
export const INPUT = {
  image: 'image',
  tags: 'tags',
  sources: 'sources',
  sourcesDir: 'sources-dir',
  platforms: 'platforms',
  attestations: 'attestations',
  annotations: 'annotations',
  mediaType: 'media-type',
  ifTagExists: 'if-tag-exists',
  waitTimeout: 'wait-timeout',
  username: 'username',
  password: 'password',
  githubToken: 'github-token',
  dryRun: 'dry-run',
  plainHttp: 'plain-http',
} as const;

export type InputName = (typeof INPUT)[keyof typeof INPUT];

type DefaultedInput =
  | typeof INPUT.attestations
  | typeof INPUT.mediaType
  | typeof INPUT.ifTagExists
  | typeof INPUT.waitTimeout
  | typeof INPUT.dryRun
  | typeof INPUT.plainHttp;

/** The defaults of action.yml, applied here too so the CLI behaves the same. */
export const DEFAULTS: Readonly<Record<DefaultedInput, string>> = {
  [INPUT.attestations]: 'keep',
  [INPUT.mediaType]: 'auto',
  [INPUT.ifTagExists]: 'overwrite',
  [INPUT.waitTimeout]: '120s',
  [INPUT.dryRun]: 'false',
  [INPUT.plainHttp]: 'auto',
};

/** A wrong input: the message starts with `input "<name>": ` and ends with an example or the fix. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly input: string;

  constructor(input: string, detail: string) {
    super(`input "${input}": ${detail}`);
    this.input = input;
  }
}

export interface Inputs {
  readonly image: Repository;
  /** Plain tag names, deduplicated; the first is the primary. */
  readonly tags: readonly string[];
  /** `sources` then `sources-dir`, one entry per repository and digest. */
  readonly sources: readonly SourceEntry[];
  readonly platforms: readonly Platform[] | undefined;
  readonly attestations: 'keep' | 'drop';
  readonly annotations: Readonly<Record<string, string>>;
  /** Annotation lines for other targets (`manifest:…`, `…-descriptor:…`), skipped; the caller says so. */
  readonly ignoredAnnotations: readonly string[];
  readonly mediaType: MediaTypeChoice;
  readonly ifTagExists: 'overwrite' | 'fail' | 'skip';
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

const DIGEST_FORM = 'sha256:<64 hex>';
const ENTRY_FORMS = `write ${DIGEST_FORM} or <repository>@${DIGEST_FORM}, optionally prefixed <os>/<arch>[/<variant>]=, e.g. linux/arm64=${DIGEST_FORM}`;
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

  const image = parseImage(get(INPUT.image));
  const tags = parseTags(get(INPUT.tags), image);
  const sources = parseAllSources(get(INPUT.sources), get(INPUT.sourcesDir), image, source);
  const platformsText = get(INPUT.platforms);
  const platforms = platformsText ? parsePlatforms(platformsText) : undefined;
  const attestations = parseChoice(INPUT.attestations, orDefault(INPUT.attestations), ['keep', 'drop']);
  const { annotations, ignored } = parseAnnotations(get(INPUT.annotations));
  const mediaType = parseChoice(INPUT.mediaType, orDefault(INPUT.mediaType), ['auto', 'oci', 'docker']);
  const ifTagExists = parseChoice(INPUT.ifTagExists, orDefault(INPUT.ifTagExists), [
    'overwrite',
    'fail',
    'skip',
  ]);
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
    tags,
    sources,
    platforms,
    attestations,
    annotations,
    ignoredAnnotations: ignored,
    mediaType,
    ifTagExists,
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseImage(text: string): Repository {
  if (!text) throw new InputError(INPUT.image, 'required: give the target repository, e.g. ghcr.io/org/app');
  try {
    return parseRepository(text, 'image');
  } catch (error) {
    throw new InputError(INPUT.image, messageOf(error));
  }
}

/** Splits on newlines and commas, trims, drops blanks. */
function listOf(text: string): string[] {
  return text
    .split(/[\r\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function parseTags(text: string, image: Repository): string[] {
  const example = `e.g. latest or 1.2.3, or ${image.display}:1.2.3`;
  if (!text) throw new InputError(INPUT.tags, `required: give at least one tag, ${example}`);
  const tags: string[] = [];
  for (const line of listOf(text)) {
    const tag = tagOf(line, image, example);
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length === 0) throw new InputError(INPUT.tags, `no tags in ${JSON.stringify(text)}: ${example}`);
  return tags;
}

/** A plain tag, or the tag of a full reference to `image` as docker/metadata-action outputs it. */
function tagOf(line: string, image: Repository, example: string): string {
  if (isValidTag(line)) return line;
  if (line.includes('@')) {
    throw new InputError(INPUT.tags, `"${line}" holds a digest; tags take no digest, drop "@…": ${example}`);
  }
  const slash = line.lastIndexOf('/');
  const colon = line.lastIndexOf(':');
  if (!line.includes('/') && colon < 0) {
    throw new InputError(
      INPUT.tags,
      `"${line}" is not a valid tag: up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"; ${example}`,
    );
  }
  if (colon < slash) {
    throw new InputError(
      INPUT.tags,
      `"${line}" is a repository without a tag: write ${image.display}:<tag>, ${example}`,
    );
  }
  const tag = line.slice(colon + 1);
  if (!isValidTag(tag)) {
    throw new InputError(
      INPUT.tags,
      `"${line}" has an invalid tag "${tag}": up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"; ${example}`,
    );
  }
  let repository: Repository;
  try {
    repository = parseRepository(line.slice(0, colon), `tag "${line}": repository`);
  } catch (error) {
    throw new InputError(INPUT.tags, messageOf(error));
  }
  if (!sameRepository(repository, image)) {
    throw new InputError(
      INPUT.tags,
      `"${line}" is a tag of ${canonicalName(repository)}, not of image ${canonicalName(image)}: ` +
        `write the tag alone or ${image.display}:${tag}`,
    );
  }
  return tag;
}

function parseAllSources(text: string, dir: string, image: Repository, source: InputSources): SourceEntry[] {
  if (!text && !dir) {
    throw new InputError(
      INPUT.sources,
      `required unless "sources-dir" is set: give one digest per line, e.g. linux/amd64=${DIGEST_FORM}`,
    );
  }
  const entries = [
    ...(text ? parseSources(text, image) : []),
    ...(dir ? parseSourcesDir(dir, image, source) : []),
  ];
  return dedupeSources(entries);
}

function parseSources(text: string, image: Repository): SourceEntry[] {
  let entries: SourceEntry[];
  if (text.startsWith('[')) entries = parseJsonArray(text, image);
  else if (text.startsWith('{')) entries = parseJsonObject(text, image);
  else entries = listOf(text).map((line) => parseEntry(line, image));
  if (entries.length === 0) {
    throw new InputError(INPUT.sources, `no entries in ${JSON.stringify(text)}: ${ENTRY_FORMS}`);
  }
  return entries;
}

function parseJson(text: string, form: string, example: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(
      INPUT.sources,
      `starts with "${text[0]}" but is not valid JSON (${messageOf(error)}); expected ${form}, e.g. ${example}`,
    );
  }
}

function parseJsonArray(text: string, image: Repository): SourceEntry[] {
  const example = `["${DIGEST_FORM}", "linux/arm64=${DIGEST_FORM}"]`;
  const value = parseJson(text, 'a JSON array of entry strings', example);
  if (!Array.isArray(value)) {
    throw new InputError(INPUT.sources, `expected a JSON array of entry strings, e.g. ${example}`);
  }
  return value.map((item, index) => {
    // An empty item is most likely a build job's missing output, not formatting: refuse rather than skip it.
    if (typeof item !== 'string' || item.trim() === '') {
      throw new InputError(
        INPUT.sources,
        `JSON array item ${index} is ${JSON.stringify(item)}, not an entry (is a build job's digest output empty?); ` +
          `each item is a string, e.g. ${example}`,
      );
    }
    return parseEntry(item.trim(), image);
  });
}

function parseJsonObject(text: string, image: Repository): SourceEntry[] {
  const example = `{"linux/amd64": "${DIGEST_FORM}", "linux/arm64": "ghcr.io/org/app@${DIGEST_FORM}"}`;
  const value = parseJson(text, 'a JSON object of platform to digest', example);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(INPUT.sources, `expected a JSON object of platform to digest, e.g. ${example}`);
  }
  refuseDuplicateKeys(text);
  return Object.entries(value).map(([key, item]) => {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new InputError(
        INPUT.sources,
        `JSON object value for "${key}" is ${JSON.stringify(item)}, not a digest (is a build job's digest output empty?); ` +
          `e.g. ${example}`,
      );
    }
    const body = item.trim();
    const entryText = `${key.trim()}=${body}`;
    if (body.includes('=')) {
      throw new InputError(
        INPUT.sources,
        `JSON object value "${body}" has a platform prefix; the key is the platform, e.g. ${example}`,
      );
    }
    const platform = platformOf(key, entryText);
    return { ...targetOf(body, entryText, image), platform };
  });
}

/** JSON.parse keeps the last of two equal keys, silently dropping a digest: refuse them instead. */
function refuseDuplicateKeys(text: string): void {
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) {
      throw new InputError(
        INPUT.sources,
        `key ${quote(key)} appears twice in the JSON object: keep one entry per platform`,
      );
    }
    seen.add(key);
  }
}

/**
 * The keys of the top-level object in `text`, which JSON.parse has accepted, unescaped. A key is a string
 * read at depth 1 right after `{` or `,`; strings are skipped whole, so brackets and quotes in them do not count.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      const end = stringEnd(text, i);
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (char === '{' || char === '[') {
      depth++;
      expectKey = depth === 1;
    } else if (char === '}' || char === ']') {
      depth--;
    } else if (char === ',') {
      expectKey = depth === 1;
    }
  }
  return keys;
}

/** The index of the quote closing the string that opens at `start`, stepping over escapes. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i;
}

/** One entry: `[<platform>=](sha256:<hex> | <hex> | <repository>[:<tag>]@sha256:<hex>)`. */
function parseEntry(text: string, image: Repository): SourceEntry {
  const eq = text.indexOf('=');
  if (eq < 0) return targetOf(text, text, image);
  const platform = platformOf(text.slice(0, eq), text);
  return { ...targetOf(text.slice(eq + 1).trim(), text, image), platform };
}

function platformOf(text: string, entry: string): Platform {
  try {
    return parsePlatform(text, 'platform');
  } catch {
    // Quoted: the text may hold a control character, the reason it was refused.
    throw new InputError(
      INPUT.sources,
      `entry ${quote(entry)}: ${quote(text.trim())} is not a platform: ` +
        'write <os>/<arch>[/<variant>][:<os.version>]=, e.g. linux/amd64= or linux/arm/v7=',
    );
  }
}

/** Where an entry's digest lives, without its platform. */
function targetOf(body: string, entry: string, image: Repository): SourceEntry {
  const at = body.indexOf('@');
  if (at < 0) {
    if (/^(sha\d+:|[a-f0-9]+$)/i.test(body)) {
      return { text: entry, repository: image, digest: digestOf(body, entry, true) };
    }
    if (body.includes('/') || body.includes(':')) {
      throw new InputError(
        INPUT.sources,
        `entry "${entry}" has no digest: sources are pinned by digest, write <repository>@${DIGEST_FORM} ` +
          `(a tag may stay: <repository>:<tag>@${DIGEST_FORM})`,
      );
    }
    throw new InputError(INPUT.sources, `entry "${entry}" is not a digest: ${ENTRY_FORMS}`);
  }
  const digest = digestOf(body.slice(at + 1), entry, false);
  let name = body.slice(0, at);
  // `repo:tag@digest` is how some tools print a pinned image; the digest decides, so the tag is dropped.
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    const tag = name.slice(colon + 1);
    if (!isValidTag(tag)) {
      throw new InputError(
        INPUT.sources,
        `entry "${entry}" has an invalid tag "${tag}": drop it and write <repository>@${DIGEST_FORM}`,
      );
    }
    name = name.slice(0, colon);
  }
  let repository: Repository;
  try {
    repository = parseRepository(name, `entry "${entry}": repository`);
  } catch (error) {
    throw new InputError(INPUT.sources, messageOf(error));
  }
  return { text: entry, repository, digest };
}

function digestOf(text: string, entry: string, allowBare: boolean): Digest {
  if (isDigest(text)) return text;
  if (allowBare && /^[a-f0-9]{64}$/.test(text)) return `sha256:${text}`;
  const hex = /^(?:sha256:)?([a-f0-9]{64})$/i.exec(text)?.[1];
  if (hex !== undefined && (allowBare || /^sha256:/i.test(text))) {
    throw new InputError(
      INPUT.sources,
      `entry "${entry}": digest "${text}" must be lowercase: sha256:${hex.toLowerCase()}`,
    );
  }
  if (/^[a-f0-9]{64}$/i.test(text)) {
    throw new InputError(
      INPUT.sources,
      `entry "${entry}": digest "${text}" lacks its algorithm: write @sha256:${text.toLowerCase()}`,
    );
  }
  throw new InputError(
    INPUT.sources,
    `entry "${entry}": "${text}" is not a digest: expected ${DIGEST_FORM} (64 lowercase hex characters after "sha256:")`,
  );
}

function parseSourcesDir(dir: string, image: Repository, source: InputSources): SourceEntry[] {
  let names: string[];
  try {
    names = source.listDir(dir);
  } catch (error) {
    throw new InputError(
      INPUT.sourcesDir,
      `cannot list folder "${dir}" (${messageOf(error)}): check the path, e.g. where actions/download-artifact put the digests`,
    );
  }
  const base = dir.replace(/[\\/]+$/, '') || dir;
  // Sorted, because directory order differs between file systems and the entries' order shows in messages.
  const files = names.filter((name) => !name.startsWith('.')).sort();
  if (files.length === 0) {
    throw new InputError(
      INPUT.sourcesDir,
      `no digest files in "${dir}"; each build job should \`touch "$DIR/\${digest#sha256:}"\` and upload the folder`,
    );
  }
  return files.map((name) => {
    if (!/^[a-f0-9]{64}$/.test(name)) {
      throw new InputError(
        INPUT.sourcesDir,
        `file "${name}" in "${dir}" is not a digest file: its name must be 64 lowercase hex characters, ` +
          `as \`touch "$DIR/\${digest#sha256:}"\` makes; remove other files from the folder`,
      );
    }
    return { text: `${base}/${name}`, repository: image, digest: `sha256:${name}` as Digest };
  });
}

/** One entry per repository and digest; a platform asserted once holds for all, asserted twice must agree. */
function dedupeSources(entries: readonly SourceEntry[]): SourceEntry[] {
  const result: SourceEntry[] = [];
  // Positions in result by digest, so thousands of sources stay linear; one position per repository.
  const byDigest = new Map<Digest, number[]>();
  for (const entry of entries) {
    const positions = byDigest.get(entry.digest) ?? [];
    let known = false;
    for (const i of positions) {
      const seen = result[i] as SourceEntry;
      // A digest names the same content in any repository, so assertions on it must agree across repositories too.
      refuseConflict(seen, entry);
      if (!sameRepository(seen.repository, entry.repository)) continue;
      result[i] = { ...seen, ...morePrecise(seen.platform, entry.platform) };
      known = true;
    }
    if (!known) {
      positions.push(result.length);
      byDigest.set(entry.digest, positions);
      result.push(entry);
    }
  }
  return result;
}

function refuseConflict(seen: SourceEntry, entry: SourceEntry): void {
  if (seen.platform && entry.platform && !samePlatform(seen.platform, entry.platform)) {
    throw new InputError(
      INPUT.sources,
      `"${seen.text}" and "${entry.text}" assert different platforms (${platformKey(seen.platform)}, ` +
        `${platformKey(entry.platform)}) for ${entry.digest}: keep the right one`,
    );
  }
}

function samePlatform(a: Platform, b: Platform): boolean {
  return platformMatches(a, b) || platformMatches(b, a);
}

/** The assertion that says more: one with os.version over one without. */
function morePrecise(a: Platform | undefined, b: Platform | undefined): { platform?: Platform } {
  if (a === undefined) return b === undefined ? {} : { platform: b };
  if (b !== undefined && a['os.version'] === undefined && b['os.version'] !== undefined)
    return { platform: b };
  return { platform: a };
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

const INDEX_PREFIX = 'index:';
/** Control characters and Unicode line breaks. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** docker buildx's annotation targets other than the index, optionally with a `[platform]` qualifier. */
const OTHER_TARGET = /^(?:manifest|index-descriptor|manifest-descriptor)(?:\[[^\]]*\])?:/;

function parseAnnotations(text: string): { annotations: Record<string, string>; ignored: string[] } {
  // A Map, not `{}`: keys such as `constructor` or `__proto__` must be plain keys, not Object.prototype's.
  const annotations = new Map<string, string>();
  const ignored: string[] = [];
  const example = 'e.g. org.opencontainers.image.source=https://github.com/org/app';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new InputError(INPUT.annotations, `"${line}" is not key=value: ${example}`);
    let key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (OTHER_TARGET.test(key)) {
      ignored.push(line);
      continue;
    }
    if (key.startsWith(INDEX_PREFIX)) key = key.slice(INDEX_PREFIX.length).trim();
    if (!key) throw new InputError(INPUT.annotations, `"${line}" has an empty key: ${example}`);
    refuseControl(key, value);
    const previous = annotations.get(key);
    if (previous !== undefined && previous !== value) {
      throw new InputError(
        INPUT.annotations,
        `"${key}" is given twice, as "${previous}" and "${value}": keep one line per key`,
      );
    }
    annotations.set(key, value);
  }
  // fromEntries defines own properties, so `__proto__` becomes a real key that Object.keys and JSON see.
  return { annotations: Object.fromEntries(annotations), ignored };
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
