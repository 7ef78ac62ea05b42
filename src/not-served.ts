import { errorMessage } from './errors.js';
import { canonicalName, type Repository } from './registry/reference.js';
import type { SourceEntry } from './sources.js';

/** A source its repository still did not serve when wait-timeout ran out; `message` says it for this source alone. */
export class NotServedError extends Error {
  constructor(
    readonly source: SourceEntry,
    readonly from: Repository,
    readonly answer: unknown,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs `task` for every source in parallel. Any other error ends the run at once, as Promise.all does; sources
 * still not served at the deadline are gathered, so the error names every one of them, not only the first.
 */
export async function whenAllServed<T>(
  sources: readonly SourceEntry[],
  task: (source: SourceEntry) => Promise<T>,
): Promise<T[]> {
  const settled = await Promise.all(
    sources.map((source) =>
      task(source).catch((error: unknown) => {
        if (error instanceof NotServedError) return error;
        throw error;
      }),
    ),
  );
  const notServed = settled.filter((item) => item instanceof NotServedError);
  if (notServed.length === 1) throw notServed[0];
  if (notServed.length > 1) throw new Error(notServedMessage(notServed));
  return settled as T[];
}

/** Every source still missing, where it was looked for, and the registry's last answer for the first. */
function notServedMessage(notServed: readonly NotServedError[]): string {
  const places = [...new Set(notServed.map((item) => canonicalName(item.from)))].join(', ');
  const listed = notServed.map((item) => `"${item.source.text}"`).join(', ');
  return (
    `sources: ${notServed.length} sources are still not served by ${places} after wait-timeout: ${listed} ` +
    `(${errorMessage(notServed[0]?.answer)}). Check that the builds pushed these digests to ${places}, or raise ` +
    'wait-timeout if the registry is slow'
  );
}
