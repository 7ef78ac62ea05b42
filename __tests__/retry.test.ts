import { expect, test } from 'vitest';
import { isTransient, RegistryError } from '../src/registry/errors.js';
import { BACKOFF, PollPacer, retryDelay, withRetry } from '../src/registry/retry.js';
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
    isTransient(
      new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) }),
    ),
  ).toBe(true);
  expect(isTransient(new Error('bad json'))).toBe(false);
});

test('full jitter grows exponentially, capped by 6 % of the time waited; Retry-After wins', () => {
  expect(retryDelay(status(503), 1, 0, () => 1)).toBe(BACKOFF.BASE_MS);
  expect(retryDelay(status(503), 2, 10_000, () => 1)).toBe(BACKOFF.BASE_MS * 2);
  // Early on the cap is the floor: a digest that appears is noticed within 150 ms.
  expect(retryDelay(status(503), 10, 0, () => 1)).toBe(BACKOFF.FLOOR_MS);
  expect(retryDelay(status(503), 10, 20_000, () => 1)).toBe(1_200);
  expect(retryDelay(status(503), 30, 600_000, () => 1)).toBe(BACKOFF.MAX_MS);
  expect(retryDelay(status(503), 3, 0, () => 0)).toBe(0);
  expect(retryDelay(status(503), 3, 0, () => 0.5)).toBe(75);
  expect(retryDelay(status(429, 7000), 1, 0, () => 1)).toBe(7000);
});

test('Retry-After: 0 does not turn backoff off', async () => {
  expect(retryDelay(status(429, 0), 3, 0, () => 1)).toBe(BACKOFF.FLOOR_MS);
  const clock = fakeClock();
  let calls = 0;
  await expect(
    withRetry(
      async () => {
        calls += 1;
        throw status(429, 0);
      },
      { clock, deadline: 10_000, retryable: isTransient, random: () => 1 },
    ),
  ).rejects.toThrow('429');
  // Ten seconds of backoff with a 150 ms floor early on and growing later: dozens of attempts, not thousands.
  expect(calls).toBeLessThan(80);
  expect(clock.sleeps.every((ms) => ms > 0)).toBe(true);
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
  expect(clock.sleeps).toEqual([100, BACKOFF.FLOOR_MS]);
});

test('every wait stays within 6 % of the time already waited (or the floor)', async () => {
  const clock = fakeClock();
  let calls = 0;
  await withRetry(
    async () => {
      calls += 1;
      if (clock.now() < 60_000) throw status(503);
      return calls;
    },
    { clock, deadline: 120_000, retryable: isTransient, random: () => 1 },
  );
  let waited = 0;
  for (const sleep of clock.sleeps) {
    expect(sleep).toBeLessThanOrEqual(Math.max(BACKOFF.FLOOR_MS, waited * BACKOFF.ELAPSED_SHARE));
    waited += sleep;
  }
  // Noticed within 6 % of the 60 s lag.
  expect(clock.now() - 60_000).toBeLessThanOrEqual(3_600);
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

test('polls of one host share a budget: the tenth poll at one moment waits its turn', async () => {
  const clock = fakeClock();
  const pacer = new PollPacer(clock, 50);
  for (let i = 0; i < 10; i++) await pacer.slot();
  // The first goes at once, each later one 20 ms (1 s / 50) after the one before.
  expect(clock.sleeps).toEqual(Array.from({ length: 9 }, () => 20));
  expect(clock.now()).toBe(180);
});

test('withRetry awaits the pace after each backoff, before the next attempt', async () => {
  const clock = fakeClock();
  const paced: unknown[] = [];
  let calls = 0;
  await withRetry(
    async () => {
      calls += 1;
      if (calls < 3) throw status(503);
      return 'ok';
    },
    {
      clock,
      deadline: 10_000,
      retryable: isTransient,
      random: () => 0,
      pace: (error) => {
        paced.push(error);
        return clock.sleep(7);
      },
    },
  );
  expect(paced).toHaveLength(2);
  expect(clock.sleeps).toEqual([0, 7, 0, 7]);
});
