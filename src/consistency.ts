import type { Clock } from './clock.js';
import type { RunContext } from './context.js';
import type { Logger } from './log.js';
import type { FetchedManifest, RegistryClient } from './registry/client.js';
import type { Descriptor } from './registry/descriptor.js';
import type { Digest } from './registry/digest.js';
import { isLag } from './registry/errors.js';
import { canonicalName, type Repository } from './registry/reference.js';

/** How often the names of the digests still missing are logged while waiting. */
export const REPORT_EVERY_MS = 2_000;

/**
 * Waits for digests to become visible in a repository (read-after-write lag: a digest pushed from another runner
 * is often unknown for a while). Polls with HEAD, which does not count against pull limits, and remembers what
 * is still missing so the log can say so.
 */
export class ConsistencyWait {
  private readonly missing = new Set<string>();
  private readonly fetched = new Map<string, Promise<FetchedManifest>>();
  private lastReport: number;
  private readonly started: number;
  /** From the run's start until the last digest that was missing appeared: 0 when none was. */
  waitedMs = 0;

  private readonly client: RegistryClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly deadline: number;

  constructor(context: RunContext) {
    ({ client: this.client, clock: this.clock, log: this.log, deadline: this.deadline } = context);
    this.started = this.clock.now();
    this.lastReport = this.started;
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
      this.log.info(`${canonicalName(repository)}@${digest} is not served yet; waiting for it`);
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

  private report(): void {
    const now = this.clock.now();
    if (now - this.lastReport < REPORT_EVERY_MS || this.missing.size === 0) return;
    this.lastReport = now;
    const seconds = Math.round((now - this.started) / 1000);
    this.log.info(
      `still waiting after ${seconds}s for ${this.missing.size} digest(s): ${[...this.missing].join(', ')}`,
    );
  }
}
