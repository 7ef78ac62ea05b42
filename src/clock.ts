/** Time as the core sees it; tests pass a fake one so waits take no real time. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Wall-clock milliseconds since the epoch, to recognise timestamps made during this run. */
  date(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  date: () => Date.now(),
};
