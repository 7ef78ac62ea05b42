import { counted } from './log.js';
import { fallbackTag } from './registry/referrers.js';
import type { Result } from './result.js';

/** Every output, by the name action.yml gives it, with structured values: the CLI prints these as JSON. */
export function outputValues(result: Result): Record<string, unknown> {
  return {
    digest: result.digest,
    ref: result.ref,
    tags: result.tags,
    'platform-digests': result.platformDigests,
    'platform-refs': result.platformRefs,
    manifest: result.manifest,
    written: result.written,
    images: Object.fromEntries(
      result.images.map((image) => [
        image.image.display,
        { ref: image.ref, tags: image.tagRefs, 'platform-refs': image.platformRefs },
      ]),
    ),
    digests: result.digests,
  };
}

/** The action's outputs: the same names, structured values as JSON text. */
export function outputsOf(result: Result): Record<string, string> {
  return asText(outputValues(result));
}

function asText(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  );
}

/** Output names a failed run still sets when some tags moved (SPEC Guarantee 4). */
const PARTIAL_OUTPUTS = ['digest', 'ref', 'tags', 'written'] as const;

/** The outputs a run that moved only some tags still hands on: which index, and the tags that serve it. */
export function partialOutputsOf(result: Result): Record<string, string> {
  return asText(partialCliOutputsOf(result));
}

export function partialCliOutputsOf(result: Result): Record<string, unknown> {
  const all = outputValues(result);
  return Object.fromEntries(PARTIAL_OUTPUTS.map((name) => [name, all[name]]));
}

/** Characters that would be read as Markdown or HTML in a job summary, and their entities. */
const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '|': '&#124;',
  '`': '&#96;',
  '[': '&#91;',
  ']': '&#93;',
  '(': '&#40;',
  ')': '&#41;',
  '!': '&#33;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '\\': '&#92;',
  '#': '&#35;',
};

/**
 * Escapes text for a Markdown table cell: values come from inputs and registries, so none of them may open a
 * link, an image, emphasis, HTML or a new row. Line breaks become spaces.
 */
export function cell(text: string): string {
  return unlinked(
    text
      .replace(/[&<>"'|`[\]()!*_~\\#]/g, (c) => ENTITIES[c] ?? c)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' '),
  );
}

/** U+2060 WORD JOINER: invisible, not a space, and it ends any word GitHub would link. */
const JOINER = '\u2060';

/**
 * GitHub links what merely looks like a link or a reference, with no Markdown around it: `https://…`, `www.…`,
 * `user@host.example`, `@team` and `#123`, and it does so after entities are decoded, so an entity does not
 * stop it. An invisible joiner inside each breaks the pattern and leaves the text as it reads. A digest after
 * `@` (`repo@sha256:…`) is neither a mention nor an address, and stays whole so the reference copies intact.
 */
function unlinked(text: string): string {
  return text
    .replace(/:\/\//g, `:${JOINER}//`)
    .replace(/\b(www)\./gi, `$1${JOINER}.`)
    .replace(/@(?!sha\d+:)/g, `@${JOINER}`)
    .replace(/&#35;/g, `&#35;${JOINER}`);
}

function code(text: string): string {
  return `<code>${cell(text)}</code>`;
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Where the attestations went, for the summary; undefined when the sources had none. */
function attestationsRow(result: Result): string | undefined {
  const { mode, count } = result.attestations;
  if (count === 0) return undefined;
  const n = counted(count, 'attestation');
  if (mode !== 'referrers') return `${n} in the index, each after the image it describes`;
  if (result.dryRun) return `${n} would be stored as OCI referrers of their images, not in the index`;
  const places = result.images.map((image) => {
    const stored = image.referrers ?? [];
    const tags = [...new Set(stored.filter((r) => r.via === 'tag').map((r) => fallbackTag(r.subject)))];
    const via = tags.length
      ? `fallback ${tags.length === 1 ? 'tag' : 'tags'} ${tags.map(code).join(', ')}`
      : 'the referrers API';
    return `${code(image.image.display)}: ${via}`;
  });
  return `${n} stored as OCI referrers of their images, not in the index (${places.join('; ')})`;
}

/**
 * The job summary: the index digest once, then per image its ref and what happened to each tag, the wait, and a
 * row per platform.
 */
export function summaryMarkdown(result: Result): string {
  const failed = result.images.some((image) => image.failed.length > 0);
  const verb = result.dryRun
    ? 'Dry run: would publish'
    : failed
      ? 'Published only in part'
      : result.written
        ? 'Published'
        : 'Already published';
  const lines = [
    `### ${verb} ${code(result.digest)}`,
    '',
    `| | |`,
    `|---|---|`,
    `| Index | ${code(result.digest)} (${cell(result.mediaType)}) |`,
    `| Waited for the registry | ${result.waitedMs > 0 ? `${(result.waitedMs / 1000).toFixed(1)} s` : 'no: every digest was served at once'} |`,
    ...result.pinned.map(({ tag, digest }) => `| Source ${code(tag)} | pinned to ${code(digest)} |`),
    ...(result.promoted ? ['| Promoted | the source index as it is, byte for byte |'] : []),
  ];
  const where = attestationsRow(result);
  if (where) lines.push(`| Attestations | ${where} |`);
  for (const image of result.images) {
    lines.push('', `#### ${code(image.ref)}`, '', '| Tag | |', '|---|---|');
    const row = (label: string, tags: readonly string[]) => {
      for (const tag of tags) lines.push(`| ${code(tag)} | ${label} |`);
    };
    if (image.forward) {
      // if-tag-exists: forward: what each tag held, what it holds now, and why.
      for (const note of image.forward) {
        const held = note.held ? code(note.held) : 'nothing';
        const now = note.now ? code(note.now) : 'nothing';
        lines.push(`| ${code(note.tag)} | ${held} → ${now}: ${cell(note.failure ?? note.why)} |`);
      }
      continue;
    }
    for (const tag of image.moved) {
      const held = image.replaced?.[tag];
      const label = result.dryRun ? 'Would write' : 'Written';
      const before = held ? ` (${result.dryRun ? 'now at' : 'held'} ${code(held)})` : '';
      lines.push(`| ${code(tag)} | ${label}${before} |`);
    }
    row('Unchanged', image.unchanged);
    row('Skipped (if-tag-exists: skip)', image.skipped);
    for (const { tag, reason } of image.failed) lines.push(`| ${code(tag)} | Not written: ${cell(reason)} |`);
  }
  lines.push('', '| Platform | Digest | Size | Source | Attestations |', '|---|---|---|---|---|');
  for (const row of result.platforms) {
    lines.push(
      `| ${code(row.platform)} | ${code(row.digest)} | ${size(row.size)} | ${code(row.source)} | ${row.attestations} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
