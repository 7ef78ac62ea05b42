import type { Result } from './run.js';

/** The action's outputs, named as in action.yml. */
export function outputsOf(result: Result): Record<string, string> {
  return {
    digest: result.digest,
    ref: result.ref,
    tags: JSON.stringify(result.tags),
    'platform-digests': JSON.stringify(result.platformDigests),
    'platform-refs': JSON.stringify(result.platformRefs),
    manifest: result.manifest,
    written: String(result.written),
  };
}

/** The CLI's stdout: the same names, with JSON values as JSON rather than strings holding JSON. */
export function cliOutputsOf(result: Result): Record<string, unknown> {
  return {
    digest: result.digest,
    ref: result.ref,
    tags: result.tags,
    'platform-digests': result.platformDigests,
    'platform-refs': result.platformRefs,
    manifest: result.manifest,
    written: result.written,
  };
}

/** Escapes text for a Markdown table cell: values come from inputs and registries. */
export function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '&#124;')
    .replace(/`/g, '&#96;')
    .replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return `<code>${cell(text)}</code>`;
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The job summary: tags, index digest, a row per platform, and how long the registry took to be consistent. */
export function summaryMarkdown(result: Result): string {
  const verb = result.dryRun ? 'Dry run: would publish' : result.written ? 'Published' : 'Already published';
  const lines = [
    `### ${verb} ${code(result.ref)}`,
    '',
    `| | |`,
    `|---|---|`,
    `| Index | ${code(result.digest)} (${cell(result.mediaType)}) |`,
  ];
  for (const tag of result.writtenTags) lines.push(`| Written | ${code(tag)} |`);
  for (const tag of result.unchangedTags) lines.push(`| Unchanged | ${code(tag)} |`);
  for (const tag of result.skippedTags) lines.push(`| Skipped (if-tag-exists: skip) | ${code(tag)} |`);
  if (result.dryRun) for (const tag of result.tags) lines.push(`| Would write | ${code(tag)} |`);
  lines.push(`| Registry consistent after | ${(result.waitedMs / 1000).toFixed(1)} s |`);
  lines.push('', '| Platform | Digest | Size | Source | Attestations |', '|---|---|---|---|---|');
  for (const row of result.platforms) {
    lines.push(
      `| ${code(row.platform)} | ${code(row.digest)} | ${size(row.size)} | ${code(row.source)} | ${row.attestations} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
