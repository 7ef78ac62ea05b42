import { type GitHubApi, isCommitSha } from './github.js';

/**
 * What makes one index newer than another for `if-tag-exists: forward` (SPEC "Tags that only move forward"):
 * the commit ancestry of their revisions, the semver precedence of their versions, or their creation times.
 */

export type OrderBy = 'revision' | 'version' | 'created';

/** The annotation each ordering reads from an index. */
export const ORDER_ANNOTATION: Readonly<Record<OrderBy, string>> = {
  revision: 'org.opencontainers.image.revision',
  version: 'org.opencontainers.image.version',
  created: 'org.opencontainers.image.created',
};

/** An example of each annotation's value, for messages. */
export const ORDER_EXAMPLE: Readonly<Record<OrderBy, string>> = {
  revision: '<commit SHA>',
  version: '1.2.3',
  created: '2026-01-01T00:00:00Z',
};

/** Ours against what a tag holds. `unmarked`: the tag's index has no (readable) annotation: older by rule. */
export type Order = 'newer' | 'older' | 'same' | 'diverged' | 'unmarked';

export interface Ordering {
  readonly orderBy: OrderBy;
  /** Compares our index's annotation value with the one a tag's index holds (undefined: none). */
  compare(ours: string, theirs: string | undefined): Promise<Order>;
}

export function ordering(orderBy: OrderBy, github: GitHubApi | undefined): Ordering {
  return {
    orderBy,
    async compare(ours, theirs) {
      if (theirs === undefined || theirs === '') return 'unmarked';
      if (orderBy === 'version') {
        const other = parseSemver(theirs);
        if (!other) return 'unmarked';
        const mine = parseSemver(ours) as Semver;
        const order = fromSign(compareSemver(mine, other));
        // Equal precedence with other build metadata (1.0.0+b1, 1.0.0+b2) is two builds, neither newer: the
        // tag is left alone rather than given the union of both.
        return order === 'same' && mine.build !== other.build ? 'diverged' : order;
      }
      if (orderBy === 'created') {
        const other = parseTime(theirs);
        return other === undefined ? 'unmarked' : fromSign(compareTimes(parseTime(ours) as Instant, other));
      }
      if (ours === theirs) return 'same';
      // A branch name or a tag where the commit should be cannot be ordered: the tag moves, as for no annotation.
      if (!isCommitSha(theirs)) return 'unmarked';
      if (!github)
        throw new Error(
          'order-by: revision needs the GitHub API (GITHUB_API_URL, GITHUB_REPOSITORY and github-token)',
        );
      const relation = await github.compare(theirs, ours);
      return relation === 'ahead'
        ? 'newer'
        : relation === 'behind'
          ? 'older'
          : relation === 'identical'
            ? 'same'
            : 'diverged';
    },
  };
}

/** Whether our own annotation value can be ordered at all; the message says why not. */
export function checkOrderValue(orderBy: OrderBy, value: string | undefined): string | undefined {
  const key = ORDER_ANNOTATION[orderBy];
  if (value === undefined || value === '')
    return `the index needs the annotation ${key} to be ordered by ${orderBy}`;
  if (orderBy === 'version' && !parseSemver(value))
    return `${key}=${value} is not a semantic version (e.g. 1.2.3)`;
  if (orderBy === 'created' && parseTime(value) === undefined)
    return `${key}=${value} is not an RFC 3339 time`;
  if (orderBy === 'revision' && !isCommitSha(value)) return `${key}=${value} is not a commit SHA`;
  return undefined;
}

function fromSign(sign: number): Order {
  return sign > 0 ? 'newer' : sign < 0 ? 'older' : 'same';
}

interface Semver {
  /** As written: semver puts no bound on a number, and past 2^53 a JavaScript number loses the last digits. */
  readonly core: readonly [bigint, bigint, bigint];
  readonly pre: readonly string[];
  /** The build metadata after `+` ('' for none): no part of precedence, but part of which build it is. */
  readonly build: string;
}

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseSemver(text: string): Semver | undefined {
  const match = SEMVER.exec(text.trim());
  if (!match) return undefined;
  return {
    core: [BigInt(match[1] ?? 0), BigInt(match[2] ?? 0), BigInt(match[3] ?? 0)],
    pre: match[4] ? match[4].split('.') : [],
    build: match[5] ?? '',
  };
}

/** Semver 2.0 precedence: core numbers, then a pre-release is below its release, identifiers compared in turn. */
export function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) {
    const sign = compareBig(a.core[i] as bigint, b.core[i] as bigint);
    if (sign !== 0) return sign;
  }
  if (a.pre.length === 0 || b.pre.length === 0) return Math.sign(b.pre.length - a.pre.length);
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return compareBig(BigInt(x), BigInt(y));
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function compareBig(a: bigint, b: bigint): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** An RFC 3339 time to its full precision: Date keeps milliseconds, and builds can be less than one apart. */
interface Instant {
  /** Whole seconds since the epoch, the offset applied. */
  readonly seconds: number;
  /** The fraction's digits, trailing zeros dropped ('' for none). */
  readonly fraction: string;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

function parseTime(text: string): Instant | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match) return undefined;
  const [, date, time, fraction = '', zone = ''] = match;
  const ms = Date.parse(`${date}T${time}${zone.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: ms / 1000, fraction: fraction.replace(/0+$/, '') };
}

function compareTimes(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return Math.sign(a.seconds - b.seconds);
  // Digit strings of one length compare as the numbers they write.
  const length = Math.max(a.fraction.length, b.fraction.length);
  const x = a.fraction.padEnd(length, '0');
  const y = b.fraction.padEnd(length, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}
