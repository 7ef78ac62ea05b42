import type { Clock } from './clock.js';
import type { RunContext } from './context.js';
import { counted, type Logger } from './log.js';
import type { FetchedManifest, RegistryClient } from './registry/client.js';
import type { Descriptor } from './registry/descriptor.js';
import type { Digest } from './registry/digest.js';
import { ErrorCode, isLag, RegistryError } from './registry/errors.js';
import { canonicalName, type Repository } from './registry/reference.js';

/**
 * When the digests still missing are named while waiting: first after REPORT_FIRST_MS, then each time the wait
 * has doubled, at most REPORT_MAX_GAP_MS apart (2, 4, 8, 16, 32, 62, 92 s …): a wait of two minutes logs seven
 * lines, not sixty.
 */
export const REPORT_FIRST_MS = 2_000;
export const REPORT_MAX_GAP_MS = 30_000;

/**
 * Waits for digests to become visible in a repository (read-after-write lag: a digest pushed from another runner
 * is often unknown for a while). Polls with HEAD, which does not count against pull limits, and remembers what
 * is still missing so the log can say so.
 */
export class ConsistencyWait {
  private readonly missing = new Set<string>();
  private readonly fetched = new Map<string, Promise<FetchedManifest>>();
  private nextReport: number;
  private readonly started: number;
  /** The first waiting line names the limit and how to change it; later ones need not. */
  private announced = false;
  /** From the run's start until the last digest that was missing appeared: 0 when none was. */
  waitedMs = 0;

  private readonly client: RegistryClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly deadline: number;

  constructor(context: RunContext) {
    ({ client: this.client, clock: this.clock, log: this.log, deadline: this.deadline } = context);
    this.started = this.clock.now();
    this.nextReport = this.started + REPORT_FIRST_MS;
  }

  /** GETs a manifest by digest; if it is not served yet, polls with HEAD until it is, then GETs it. */
  manifest(repository: Repository, digest: Digest): Promise<FetchedManifest> {
    // Resolving and copying to other images may want the same manifest: it is downloaded once (GETs count
    // against pull limits).
    const key = `${canonicalName(repository)}@${digest}`;
    let pending = this.fetched.get(key);
    if (!pending) {
      pending = this.fetch(repository, digest);
      this.fetched.set(key, pending);
    }
    return pending;
  }

  private async fetch(repository: Repository, digest: Digest): Promise<FetchedManifest> {
    try {
      return await this.client.getManifest(repository, digest, { deadline: this.deadline });
    } catch (error) {
      if (!isLag(error)) throw error;
      this.log.info(this.notServedLine(repository, `${canonicalName(repository)}@${digest}`, error));
    }
    await this.poll(repository, digest, true);
    return this.client.getManifest(repository, digest, { deadline: this.deadline, untilFound: true });
  }

  /** Polls a manifest with HEAD until the repository serves it. */
  head(repository: Repository, digest: Digest): Promise<Descriptor> {
    return this.poll(repository, digest, false);
  }

  /**
   * HEADs until served. `waitedMs` counts only digests that were really missing (a first answer was 404), so a
   * registry that served everything at once reports no wait.
   */
  private async poll(repository: Repository, digest: Digest, missing: boolean): Promise<Descriptor> {
    const label = `${canonicalName(repository)}@${digest}`;
    this.missing.add(label);
    let lagged = missing;
    try {
      return await this.client.headManifest(repository, digest, {
        deadline: this.deadline,
        untilFound: true,
        onRetry: (error) => {
          if (isLag(error)) lagged = true;
          this.report();
        },
      });
    } finally {
      this.missing.delete(label);
      if (lagged) this.waitedMs = Math.max(this.waitedMs, this.clock.now() - this.started);
    }
  }

  /** The wait-timeout this wait runs under, in whole seconds, as the user gave it. */
  private get limitSeconds(): number {
    return Math.round((this.deadline - this.started) / 1000);
  }

  /**
   * The line for a digest or tag (`what`, named in full) found missing. The first names the limit and how to
   * change it; a repository the registry does not know at all (NAME_UNKNOWN) is more often a typo in `image` than
   * lag, so that is said.
   */
  notServedLine(repository: Repository, what: string, error: unknown): string {
    const unknownRepository =
      error instanceof RegistryError && error.hasCode(ErrorCode.NAME_UNKNOWN)
        ? `: ${repository.registry} does not know the repository ${repository.path} (NAME_UNKNOWN); ` +
          'is "image" misspelt?'
        : '';
    const limit = this.announced
      ? ''
      : ` up to ${this.limitSeconds} s (wait-timeout; set it, e.g. to 5m, to wait longer)`;
    this.announced = true;
    return `${what} is not served yet${unknownRepository}; waiting for it${limit}`;
  }

  private report(): void {
    const now = this.clock.now();
    if (now < this.nextReport || this.missing.size === 0) return;
    const waited = now - this.started;
    this.nextReport = now + Math.min(Math.max(waited, REPORT_FIRST_MS), REPORT_MAX_GAP_MS);
    this.log.info(
      `still waiting after ${Math.round(waited / 1000)} s of ${this.limitSeconds} s for ` +
        `${counted(this.missing.size, 'digest')}: ${[...this.missing].join(', ')}`,
    );
  }
}
