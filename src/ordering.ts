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
        return other ? fromSign(compareSemver(parseSemver(ours) as Semver, other)) : 'unmarked';
      }
      if (orderBy === 'created') {
        const other = parseTime(theirs);
        return other === undefined ? 'unmarked' : fromSign(Math.sign((parseTime(ours) as number) - other));
      }
      if (ours === theirs) return 'same';
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
  readonly core: readonly [number, number, number];
  readonly pre: readonly string[];
}

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function parseSemver(text: string): Semver | undefined {
  const match = SEMVER.exec(text.trim());
  if (!match) return undefined;
  return {
    core: [Number(match[1]), Number(match[2]), Number(match[3])],
    pre: match[4] ? match[4].split('.') : [],
  };
}

/** Semver 2.0 precedence: core numbers, then a pre-release is below its release, identifiers compared in turn. */
export function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) {
    const d = (a.core[i] as number) - (b.core[i] as number);
    if (d !== 0) return Math.sign(d);
  }
  if (a.pre.length === 0 || b.pre.length === 0) return Math.sign(b.pre.length - a.pre.length);
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Math.sign(Number(x) - Number(y));
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function parseTime(text: string): number | undefined {
  if (!RFC3339.test(text.trim())) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}
