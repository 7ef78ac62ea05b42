import type { ProxyHandler } from './proxy.js';

/**
 * A proxy handler that answers in rounds: it holds every response until no new request has arrived for
 * `quietMs` and every held request has its upstream answer, then releases them all at once. A request that
 * needs an earlier answer can only arrive after that answer was released, so it lands in a later round:
 * the number of rounds is the depth of the client's chain of dependent requests, whatever the timing noise
 * (a busy machine can only split a round, never merge two). With the proxy's request log,
 * `sequentialRoundTrips(log)` then counts exactly these rounds.
 */
export interface Lockstep {
  readonly handler: ProxyHandler;
  /** Rounds released so far. */
  readonly rounds: number;
}

export interface LockstepOptions {
  /** How long the proxy waits for more requests before it releases a round. */
  readonly quietMs: number;
}

interface Held {
  ready: boolean;
  release: () => void;
}

export function lockstep(options: LockstepOptions): Lockstep {
  let held: Held[] = [];
  let timer: NodeJS.Timeout | undefined;
  let quiet = false;
  let rounds = 0;

  const tryRelease = (): void => {
    if (!quiet || held.length === 0 || !held.every((h) => h.ready)) return;
    const batch = held;
    held = [];
    quiet = false;
    rounds++;
    for (const h of batch) h.release();
  };
  const arrived = (): void => {
    quiet = false;
    clearTimeout(timer);
    timer = setTimeout(() => {
      quiet = true;
      tryRelease();
    }, options.quietMs);
  };

  const handler: ProxyHandler = async (_req, forward) => {
    let release = (): void => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entry: Held = { ready: false, release };
    held.push(entry);
    arrived();
    try {
      return await forward();
    } finally {
      entry.ready = true;
      tryRelease();
      await released;
    }
  };
  return {
    handler,
    get rounds() {
      return rounds;
    },
  };
}
