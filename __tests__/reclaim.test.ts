import { afterEach, beforeEach, expect, test, vi } from 'vitest';

const MIB = 1024 * 1024;

// The module keeps its collector and its count for the process: each test loads it anew.
async function load(): Promise<typeof import('../src/registry/reclaim.js')> {
  return import('../src/registry/reclaim.js');
}

beforeEach(() => {
  vi.resetModules();
});

afterEach(() => {
  vi.restoreAllMocks();
});

test('a runtime that refuses the flag leaves copies running, without a collection', async () => {
  const { reclaimAfter } = await load();
  const v8 = process.getBuiltinModule('node:v8');
  const setFlags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {
    throw new Error('flags are frozen');
  });
  expect(() => reclaimAfter(4 * MIB)).not.toThrow();
  expect(setFlags).not.toHaveBeenCalled();
  // The second 4 MiB reaches the threshold: the collector is looked for once, and its absence is no error.
  expect(() => reclaimAfter(4 * MIB)).not.toThrow();
  expect(setFlags).toHaveBeenCalledTimes(1);
  expect(() => reclaimAfter(8 * MIB)).not.toThrow();
  expect(setFlags).toHaveBeenCalledTimes(1);
});

test('every 8 MiB a young-generation collection, every sixteenth a full one', async () => {
  const { reclaimAfter } = await load();
  vi.spyOn(process.getBuiltinModule('node:v8'), 'setFlagsFromString').mockImplementation(() => {});
  const kinds: string[] = [];
  vi.spyOn(process.getBuiltinModule('node:vm'), 'runInNewContext').mockReturnValue(
    (options: { type: string }) => kinds.push(options.type),
  );
  for (let i = 0; i < 32 * 2; i++) reclaimAfter(4 * MIB);
  expect(kinds).toHaveLength(32);
  expect(kinds.map((kind, i) => (kind === 'major' ? i : -1)).filter((i) => i >= 0)).toEqual([15, 31]);
});
