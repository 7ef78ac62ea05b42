import { expect, test } from 'vitest';
import { RegistryError } from '../src/registry/errors.js';
import { BACKOFF, isTransient, retryDelay, withRetry } from '../src/registry/retry.js';
import { fakeClock } from './helpers/fake-clock.js';

const status = (s: number, retryAfterMs?: number) =>
  new RegistryError({ method: 'GET', url: 'http://r/v2/', status: s, retryAfterMs });

test.each([
  [408, true],
  [429, true],
  [500, true],
  [502, true],
  [503, true],
  [501, false],
  [400, false],
  [401, false],
  [403, false],
  [404, false],
])('status %i transient: %s', (code, expected) => {
  expect(isTransient(status(code))).toBe(expected);
});

test('socket errors are transient, nested causes too; plain errors are not', () => {
  expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
  expect(
    isTransient(new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'UND_ERR_SOCKET' }) })),
  ).toBe(true);
  expect(isTransient(new Error('bad json'))).toBe(false);
});

test('full jitter grows exponentially and is capped; Retry-After wins', () => {
  expect(retryDelay(status(503), 1, () => 1)).toBe(BACKOFF.BASE_MS);
  expect(retryDelay(status(503), 3, () => 1)).toBe(BACKOFF.BASE_MS * 4);
  expect(retryDelay(status(503), 30, () => 1)).toBe(BACKOFF.MAX_MS);
  expect(retryDelay(status(503), 3, () => 0)).toBe(0);
  expect(retryDelay(status(429, 7000), 1, () => 1)).toBe(7000);
});

test('retries transient failures then succeeds', async () => {
  const clock = fakeClock();
  let calls = 0;
  const result = await withRetry(
    async () => {
      calls += 1;
      if (calls < 3) throw status(503);
      return 'ok';
    },
    { clock, deadline: 10_000, retryable: isTransient, random: () => 1 },
  );
  expect(result).toBe('ok');
  expect(calls).toBe(3);
  expect(clock.sleeps).toEqual([100, 200]);
});

test('a final error is thrown at once, unwrapped', async () => {
  const clock = fakeClock();
  let calls = 0;
  const error = status(401);
  await expect(
    withRetry(
      async () => {
        calls += 1;
        throw error;
      },
      { clock, deadline: 10_000, retryable: isTransient },
    ),
  ).rejects.toBe(error);
  expect(calls).toBe(1);
  expect(clock.sleeps).toEqual([]);
});

test('stops at the deadline, never sleeping past it', async () => {
  const clock = fakeClock();
  await expect(
    withRetry(
      async () => {
        throw status(503);
      },
      { clock, deadline: 1_000, retryable: isTransient, random: () => 1 },
    ),
  ).rejects.toBeInstanceOf(RegistryError);
  expect(clock.now()).toBe(1_000);
  expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(1_000);
});
