import pRetry, { AbortError } from 'p-retry';
import type { Clock } from '../clock.js';
import { RegistryError } from './errors.js';

/** The one backoff policy: exponential with full jitter, capped, under a deadline. */
export const BACKOFF = {
  /** First delay ceiling; the n-th retry waits a random time in [0, min(cap, BASE * 2^(n-1))]. */
  BASE_MS: 100,
  /**
   * The cap grows with the time already spent waiting (6 % of it, at least FLOOR_MS, at most MAX_MS), so a
   * digest that appears after a lag L is noticed within max(150 ms, 6 % of L), inside the 250 ms or 10 % promised
   * after the follow-up reads, while long waits poll gently.
   */
  FLOOR_MS: 150,
  ELAPSED_SHARE: 0.06,
  MAX_MS: 5_000,
  /** A ceiling on attempts, whatever the deadline says, so no loop is unbounded. */
  MAX_ATTEMPTS: 10_000,
  /** How long transient faults (429, 5xx, resets) are retried when the caller gives no deadline. */
  TRANSIENT_BUDGET_MS: 60_000,
  /**
   * Most lag polls per second to one registry host, however many digests are missing: 64 hidden sources polled
   * every 150 ms would be 400 requests a second, which rate limiters (Docker Hub, GHCR) punish.
   */
  POLLS_PER_SECOND: 50,
} as const;

export interface RetryOptions {
  clock: Clock;
  /** Clock time after which no new attempt starts. */
  deadline: number;
  retryable: (error: unknown) => boolean;
  /** Told before each wait, e.g. to log a debug line. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Awaited after the backoff, before the next attempt: a shared budget may hold it back further. */
  pace?: (error: unknown) => Promise<void> | undefined;
  random?: () => number;
}

/** Spreads the polls of one registry host so they stay within POLLS_PER_SECOND, on the injected clock. */
export class PollPacer {
  private next = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number = BACKOFF.POLLS_PER_SECOND,
  ) {}

  /** Resolves when the next poll may go. */
  async slot(): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await this.clock.sleep(at - now);
  }
}

/** Full-jitter delay for the given retry, or what `Retry-After` asked for when the registry said. */
export function retryDelay(
  error: unknown,
  attempt: number,
  elapsedMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(BACKOFF.MAX_MS, Math.max(BACKOFF.FLOOR_MS, elapsedMs * BACKOFF.ELAPSED_SHARE));
  const ceiling = Math.min(cap, BACKOFF.BASE_MS * 2 ** (attempt - 1));
  const backoff = Math.floor(random() * ceiling);
  // `Retry-After` may lengthen the wait, never shorten it: `Retry-After: 0` would otherwise turn backoff off.
  if (error instanceof RegistryError && error.retryAfterMs !== undefined)
    return Math.max(error.retryAfterMs, backoff);
  return backoff;
}

/**
 * Runs `fn` until it succeeds, the error is not retryable, or the deadline passes. p-retry drives the
 * attempts; the delays come from `retryDelay` on the injected clock, so tests need no real time.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const started = options.clock.now();
  let attempt = 0;
  return pRetry(
    async () => {
      attempt += 1;
      try {
        return await fn(attempt);
      } catch (error) {
        const remaining = options.deadline - options.clock.now();
        if (!options.retryable(error) || remaining <= 0 || attempt >= BACKOFF.MAX_ATTEMPTS) {
          throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        }
        const elapsed = options.clock.now() - started;
        const delay = Math.min(retryDelay(error, attempt, elapsed, random), remaining);
        options.onRetry?.(error, attempt, delay);
        await options.clock.sleep(delay);
        await options.pace?.(error);
        throw error;
      }
    },
    { retries: BACKOFF.MAX_ATTEMPTS, minTimeout: 0, factor: 1, randomize: false },
  );
}
