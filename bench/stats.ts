/** The median; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
}

/** A count that should not vary between runs: `19`, or `19-21` when it did. */
export function countRange(values: readonly number[]): string {
  if (values.length === 0) return '-';
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max ? String(min) : `${min}-${max}`;
}

export function formatMs(ms: number): string {
  return ms >= 100 ? String(Math.round(ms)) : ms.toFixed(1);
}

/** How many times faster `ours` is than `peer` (both median ms). */
export function speedup(peerMs: number, oursMs: number): string {
  return `${(peerMs / oursMs).toFixed(1)}x`;
}

export function formatBytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes)`;
}

/**
 * A Markdown table with padded columns, so it reads in a terminal and pastes into the docs as is. Columns
 * named in `right` are right-aligned (numbers).
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const pad = (text: string, i: number): string =>
    right.has(i) ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const line = (cells: readonly string[]): string =>
    `| ${headers.map((_, i) => pad(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => `${'-'.repeat(width + 1)}${right.has(i) ? ':' : '-'}`).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** `items` rotated left by `by`, so each tool takes each position in turn across runs. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
