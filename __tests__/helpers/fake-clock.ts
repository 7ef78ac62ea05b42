import type { Clock } from '../../src/clock.js';

/** A clock whose sleeps return at once and advance time, recording each wait. */
export function fakeClock(start = 0): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    date: () => Date.parse('2026-01-01T00:00:00Z') + now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}
