import { errorMessage } from './errors.js';
import { INPUT, InputError, listOf } from './input-names.js';
import { type Platform, parsePlatform, platformKey, platformMatches, quote } from './platform.js';
import { type Digest, parseDigest } from './registry/digest.js';
import { canonicalName, parseReference, type Repository, sameRepository } from './registry/reference.js';

/** One entry of `sources` / `sources-dir`, parsed but not yet read from the registry. */
export interface SourceEntry {
  /** The entry as the user wrote it, for messages. */
  readonly text: string;
  /** Where the digest lives: the target image, or another repository for `<repo>@sha256:…`. */
  readonly repository: Repository;
  readonly digest: Digest;
  /** The platform the user asserted with a `<platform>=` prefix or a JSON object key. */
  readonly platform?: Platform;
  /** The tag it was given by (`<repository>:<tag>`, `:<tag>`), pinned to `digest` when the run started. */
  readonly pinnedFrom?: string;
}

/** An entry given by tag: resolved once, when the run starts, and pinned to the digest it then holds. */
export interface TaggedSource {
  readonly text: string;
  readonly repository: Repository;
  readonly tag: string;
  readonly platform?: Platform;
}

/** An entry as parsed: by digest, or by tag until the run pins it. */
export type SourceInput = SourceEntry | TaggedSource;

export function isTagged(source: SourceInput): source is TaggedSource {
  return 'tag' in source;
}

const DIGEST_FORM = 'sha256:<64 hex>';
const ENTRY_FORMS = `write ${DIGEST_FORM}, <repository>@${DIGEST_FORM}, <repository>:<tag> or :<tag> (a tag of the image), optionally prefixed <os>/<arch>[/<variant>]=, e.g. linux/arm64=${DIGEST_FORM}`;

/**
 * The `sources` and `sources-dir` inputs: entries one per line, a JSON array of entries or a JSON object of
 * platform to entry, then the digest files of a folder; one entry per repository and digest.
 */
export function parseSources(
  text: string,
  dir: string,
  image: Repository,
  listDir: (path: string) => string[],
): SourceInput[] {
  if (!text && !dir) {
    throw new InputError(
      INPUT.sources,
      `required unless "sources-dir" is set: give one digest per line, e.g. linux/amd64=${DIGEST_FORM}`,
    );
  }
  const entries = [
    ...(text ? parseSourceText(text, image) : []),
    ...(dir ? parseSourcesDir(dir, image, listDir) : []),
  ];
  const tagged = entries.filter(isTagged);
  const pinned = entries.filter((entry): entry is SourceEntry => !isTagged(entry));
  return [...dedupeSources(pinned), ...dedupeTagged(tagged)];
}

/** One entry per repository and tag; the platform asserted first holds (pinning checks it again). */
function dedupeTagged(entries: readonly TaggedSource[]): TaggedSource[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = `${canonicalName(entry.repository)}:${entry.tag}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function parseSourceText(text: string, image: Repository): SourceInput[] {
  let entries: SourceInput[];
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
      `starts with "${text[0]}" but is not valid JSON (${errorMessage(error)}); expected ${form}, e.g. ${example}`,
    );
  }
}

function parseJsonArray(text: string, image: Repository): SourceInput[] {
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

function parseJsonObject(text: string, image: Repository): SourceInput[] {
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

/** One entry: `[<platform>=](sha256:<hex> | <hex> | <repository>[:<tag>]@sha256:<hex> | <repository>:<tag> | :<tag>)`. */
function parseEntry(text: string, image: Repository): SourceInput {
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

/** Where an entry's digest (or tag) lives, without its platform. */
function targetOf(body: string, entry: string, image: Repository): SourceInput {
  if (!body.includes('@')) {
    // A digest alone (or bare hex, as sources-dir file names are) lives in the image.
    if (/^(sha\d+:|[a-f0-9]+$)/i.test(body)) {
      const digest = /^[a-f0-9]{64}$/i.test(body) ? `sha256:${body}` : body;
      return { text: entry, repository: image, digest: inputDigest(digest, entry) };
    }
    // `:testing`: a tag of the primary image.
    if (body.startsWith(':')) return taggedOf(`${image.display}${body}`, entry, body !== entry);
    if (body.includes('/') || body.includes(':')) return taggedOf(body, entry, body !== entry);
    throw new InputError(INPUT.sources, `entry "${entry}" is not a digest: ${ENTRY_FORMS}`);
  }
  // `repo:tag@digest` is how some tools print a pinned image; the digest decides, so the tag is dropped.
  // Messages name the whole entry, platform prefix included, once.
  const prefixed = body !== entry;
  try {
    const { repository, digest } = parseReference(body, prefixed ? 'reference' : 'entry');
    return { text: entry, repository, digest: digest as Digest };
  } catch (error) {
    throw new InputError(INPUT.sources, `${prefixed ? `entry "${entry}": ` : ''}${errorMessage(error)}`);
  }
}

/** `<repository>:<tag>`: a source given by tag, pinned when the run starts. */
function taggedOf(body: string, entry: string, prefixed: boolean): TaggedSource {
  let reference: ReturnType<typeof parseReference>;
  try {
    reference = parseReference(body, prefixed ? 'reference' : 'entry');
  } catch (error) {
    throw new InputError(INPUT.sources, `${prefixed ? `entry "${entry}": ` : ''}${errorMessage(error)}`);
  }
  if (reference.tag === undefined) {
    throw new InputError(
      INPUT.sources,
      `entry "${entry}" has no digest (nor a tag): write <repository>@${DIGEST_FORM}, or <repository>:<tag> ` +
        '(resolved once when the run starts and pinned to that digest)',
    );
  }
  return { text: entry, repository: reference.repository, tag: reference.tag };
}

function inputDigest(text: string, entry: string): Digest {
  try {
    return parseDigest(text, `entry "${entry}": digest`);
  } catch (error) {
    throw new InputError(INPUT.sources, errorMessage(error));
  }
}

function parseSourcesDir(dir: string, image: Repository, listDir: (path: string) => string[]): SourceEntry[] {
  let names: string[];
  try {
    names = listDir(dir);
  } catch (error) {
    throw new InputError(
      INPUT.sourcesDir,
      `cannot list folder "${dir}" (${errorMessage(error)}): check the path, e.g. where actions/download-artifact put the digests`,
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
export function dedupeSources(entries: readonly SourceEntry[]): SourceEntry[] {
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
