import { describe, expect, test } from 'vitest';
import { type ImageOutcome, planTags, writtenLine } from '../src/publish.js';
import type { Digest } from '../src/registry/digest.js';
import { parseRepository } from '../src/registry/reference.js';

const image = parseRepository('ghcr.io/org/app');
const ours = `sha256:${'1'.repeat(64)}` as Digest;
const theirs = `sha256:${'2'.repeat(64)}` as Digest;
const states = new Map<string, Digest | undefined>([
  ['new', undefined],
  ['same', ours],
  ['moved', theirs],
]);

test.each([
  ['overwrite', { write: ['new', 'moved'], unchanged: ['same'], skipped: [] }],
  ['skip', { write: ['new'], unchanged: ['same'], skipped: ['moved'] }],
] as const)('if-tag-exists: %s', (mode, expected) => {
  expect(planTags(image, states, ours, mode)).toEqual(expected);
});

test('if-tag-exists: fail refuses the whole run, naming the tag and its digest', () => {
  expect(() => planTags(image, states, ours, 'fail')).toThrow(
    `if-tag-exists is fail and ghcr.io/org/app:moved is at ${theirs}, not ${ours}: nothing was written`,
  );
  expect(planTags(image, new Map([['same', ours]]), ours, 'fail')).toEqual({
    write: [],
    unchanged: ['same'],
    skipped: [],
  });
});

describe('the written line: whether a tag moved, and if not, why not', () => {
  const outcome = (moved: string[], unchanged: string[], skipped: string[] = []): ImageOutcome => ({
    image,
    tags: [...moved, ...unchanged, ...skipped],
    moved,
    unchanged,
    skipped,
    failed: [],
  });
  test.each([
    ['a second run', [outcome([], ['a', 'b'])], false, 'written: false: every tag already serves the index'],
    ['one tag moved', [outcome(['a'], ['b'])], false, 'written: true (1 tag moved)'],
    ['two images', [outcome(['a'], []), outcome(['a'], [])], false, 'written: true (2 tags moved)'],
    ['a skipped tag', [outcome([], ['a'], ['b'])], false, 'written: false: no tag moved'],
    ['a dry run', [outcome(['a', 'b'], [])], true, 'written: false (dry run; 2 tags would move)'],
  ])('%s', (_name, outcomes, dryRun, line) => {
    expect(writtenLine(outcomes, dryRun)).toBe(line);
  });
});
