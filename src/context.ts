import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import type { RegistryClient } from './registry/client.js';

/**
 * What every phase of a run works with: the client, the logger, the clock, and the run's one deadline
 * (`wait-timeout` after the start), which bounds every wait and retry of every phase.
 */
export interface RunContext {
  readonly client: RegistryClient;
  readonly log: Logger;
  readonly clock: Clock;
  readonly deadline: number;
}
