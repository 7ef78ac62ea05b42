import { describe, expect, test } from 'vitest';
import type { GitHubApi } from '../src/github.js';
import { checkOrderValue, compareSemver, ordering, parseSemver } from '../src/ordering.js';

describe('semver precedence', () => {
  test.each([
    ['1.0.0', '2.0.0', -1],
    ['1.10.0', '1.9.9', 1],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-alpha.1', '1.0.0-alpha.beta', -1],
    ['1.0.0-beta.2', '1.0.0-beta.11', -1],
    ['1.0.0-rc.1', '1.0.0-beta.11', 1],
    ['v1.2.3', '1.2.3+build.5', 0],
    // Past 2^53 a number loses its last digits: these are told apart all the same.
    ['1.0.0-9007199254740993', '1.0.0-9007199254740992', 1],
    ['9007199254740993.0.0', '9007199254740992.0.0', 1],
    ['1.0.0-rc.18446744073709551617', '1.0.0-rc.18446744073709551616', 1],
  ])('%s against %s is %i', (a, b, expected) => {
    expect(compareSemver(parseSemver(a) as never, parseSemver(b) as never)).toBe(expected);
  });

  test.each(['1.2', '01.2.3', 'latest', ''])('%j is not a version', (text) => {
    expect(parseSemver(text)).toBeUndefined();
  });
});

describe('ordering', () => {
  const github = (answer: Awaited<ReturnType<GitHubApi['compare']>>): GitHubApi & { calls: string[][] } => {
    const calls: string[][] = [];
    return {
      calls,
      compare: async (base, head) => {
        calls.push([base, head]);
        return answer;
      },
    };
  };

  test.each([
    ['ahead', 'newer'],
    ['behind', 'older'],
    ['identical', 'same'],
    ['diverged', 'diverged'],
  ] as const)("a revision %s of the tag's is %s", async (answer, expected) => {
    const api = github(answer);
    expect(await ordering('revision', api).compare('b'.repeat(40), 'a'.repeat(40))).toBe(expected);
    expect(api.calls).toEqual([['a'.repeat(40), 'b'.repeat(40)]]);
  });

  test('the same revision, or an unmarked tag, needs no API call', async () => {
    const api = github('ahead');
    expect(await ordering('revision', api).compare('a'.repeat(40), 'a'.repeat(40))).toBe('same');
    expect(await ordering('revision', api).compare('a'.repeat(40), undefined)).toBe('unmarked');
    expect(api.calls).toEqual([]);
  });

  test.each(['main', 'v1.2.3', 'abc', `${'a'.repeat(40)}\n`])(
    "a tag's revision %j that is not a commit SHA counts as unmarked, with no API call",
    async (theirs) => {
      const api = github('ahead');
      expect(await ordering('revision', api).compare('a'.repeat(40), theirs)).toBe('unmarked');
      expect(api.calls).toEqual([]);
    },
  );

  test('two different revisions without the API are refused with the fix', async () => {
    await expect(ordering('revision', undefined).compare('a'.repeat(40), 'b'.repeat(40))).rejects.toThrow(
      /GITHUB_API_URL, GITHUB_REPOSITORY and github-token/,
    );
  });

  test.each([
    ['version', '1.2.0', '1.10.0', 'older'],
    ['version', '2.0.0', 'not-a-version', 'unmarked'],
    ['created', '2026-03-01T00:00:00Z', '2026-02-01T00:00:00+01:00', 'newer'],
    ['created', '2026-03-01T00:00:00Z', '2026-03-01T01:00:00+01:00', 'same'],
    // Below a millisecond, as Go and Python write times.
    ['created', '2026-03-01T00:00:00.0002Z', '2026-03-01T00:00:00.0001Z', 'newer'],
    ['created', '2026-03-01T00:00:00.000000001Z', '2026-03-01T00:00:00Z', 'newer'],
    ['created', '2026-03-01T00:00:00.5Z', '2026-03-01T00:00:00.500000Z', 'same'],
    ['created', '2026-03-01t00:00:00.25z', '2026-03-01T00:00:00.3Z', 'older'],
    ['version', '1.0.0-9007199254740993', '1.0.0-9007199254740992', 'newer'],
    // The same precedence, another build: neither newer nor the same.
    ['version', '1.0.0+build.2', '1.0.0+build.1', 'diverged'],
    ['version', 'v1.0.0+build.1', '1.0.0+build.1', 'same'],
  ] as const)('order-by %s: %s against %s is %s', async (orderBy, ours, theirs, expected) => {
    expect(await ordering(orderBy, undefined).compare(ours, theirs)).toBe(expected);
  });

  test.each([
    ['revision', undefined, /needs the annotation org\.opencontainers\.image\.revision/],
    ['revision', 'main', /is not a commit SHA/],
    ['version', '1.2', /is not a semantic version/],
    ['created', 'yesterday', /is not an RFC 3339 time/],
  ] as const)('our own %s value %j is refused', (orderBy, value, message) => {
    expect(checkOrderValue(orderBy, value)).toMatch(message);
  });
});
