import { afterEach, describe, expect, test } from 'vitest';
import { type ImageOutcome, planTags, writtenLine } from '../src/publish.js';
import type { Digest } from '../src/registry/digest.js';
import { parseRepository } from '../src/registry/reference.js';
import { run } from '../src/run.js';
import { inputsFrom } from './helpers/inputs.js';
import { scriptedWorld } from './helpers/scripted-registry.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

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

test('one image, every tag skipped: an index that cannot be stored by digest fails the run (ref would not resolve)', async () => {
  const w = scriptedWorld(['reg.test']);
  closers.push(w.close);
  const amd64 = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  const other = w.registry.pushImage('org/app', { platform: 'linux/arm64' });
  await w.client.putManifest(w.registry.repo('org/app'), 'v1', other.bytes, other.mediaType);
  // The registry refuses the index by digest (a policy, a quota): only the tag write could have stored it.
  w.registry.denyManifestPut = (_repo, reference) => reference.startsWith('sha256:');

  const merge = run(
    inputsFrom({ image: 'reg.test/org/app', tags: 'v1', sources: amd64.digest, 'if-tag-exists': 'skip' }),
    { client: w.client, log: w.context.log, clock: w.clock },
  );

  await expect(merge).rejects.toThrow(
    /could not be stored: .*403.*No tag of reg\.test\/org\/app moved, and ref would not resolve/,
  );
  expect(w.registry.tagged('org/app', 'v1')).toBe(other.digest);
});
