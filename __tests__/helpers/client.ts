import { systemClock } from '../../src/clock.js';
import type { Logger } from '../../src/log.js';
import { SecretMasker } from '../../src/log.js';
import type { Credential } from '../../src/registry/auth.js';
import { RegistryClient } from '../../src/registry/client.js';
import { parseRepository, type Repository } from '../../src/registry/reference.js';

/** A logger that keeps every line (debug included, masked like the real ones) so tests can scan it. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const masker = new SecretMasker();
  const push = (line: string) => lines.push(masker.mask(line));
  return {
    lines,
    debug: (m) => push(`debug ${m}`),
    info: (m) => push(`info ${m}`),
    warning: (m) => push(`warning ${m}`),
    group: (name, fn) => {
      push(`group ${name}`);
      return fn();
    },
    secret: (value) => masker.add(value),
  };
}

export function clientFor(
  options: { credential?: Credential; log?: Logger; timeoutMs?: number } = {},
): RegistryClient {
  return new RegistryClient({
    credentials: async () => options.credential,
    log: options.log ?? recordingLogger(),
    clock: systemClock,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** Runs `use` with a fresh client (`clientFor(options)`), closing the client afterwards whatever happens. */
export async function withClient<T>(
  options: Parameters<typeof clientFor>[0],
  use: (client: RegistryClient) => Promise<T>,
): Promise<T> {
  const client = clientFor(options);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** The repository `path` on a test registry or proxy at `host`. */
export function repoAt(host: string, path: string): Repository {
  return parseRepository(`${host}/${path}`);
}
