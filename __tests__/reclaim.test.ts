import { afterEach, expect, test, vi } from 'vitest';
import { reclaimAfter } from '../src/registry/reclaim.js';

afterEach(() => {
  vi.restoreAllMocks();
});

test('a runtime that refuses the flag leaves copies running, without a collection', () => {
  const v8 = process.getBuiltinModule('node:v8');
  const setFlags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {
    throw new Error('flags are frozen');
  });
  expect(() => reclaimAfter(4 * 1024 * 1024)).not.toThrow();
  expect(setFlags).not.toHaveBeenCalled();
  // The second 4 MiB reaches the threshold: the collector is looked for once, and its absence is no error.
  expect(() => reclaimAfter(4 * 1024 * 1024)).not.toThrow();
  expect(setFlags).toHaveBeenCalledTimes(1);
  expect(() => reclaimAfter(8 * 1024 * 1024)).not.toThrow();
  expect(setFlags).toHaveBeenCalledTimes(1);
});
