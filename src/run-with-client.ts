import { systemClock } from './clock.js';
import { credentialSource } from './credentials.js';
import type { HelperRunner } from './docker-config.js';
import type { DockerConfigs } from './docker-config-files.js';
import { type GitHubApi, onDemand } from './github.js';
import type { Inputs } from './inputs.js';
import type { Logger } from './log.js';
import { ordering } from './ordering.js';
import { RegistryClient } from './registry/client.js';
import { proxyChoice } from './registry/proxy-env.js';
import { type OwnedTransport, undiciTransport } from './registry/transport.js';
import type { Result } from './result.js';
import { run } from './run.js';
import { whileRequestsInFlight } from './warm-up.js';

export interface Environment {
  /** `GITHUB_ACTOR`, used as the user name with the GitHub token. */
  readonly githubActor?: string | undefined;
  /** `GITHUB_SHA`: the revision `if-tag-exists: forward` annotates the index with, unless `annotations` gives one. */
  readonly githubSha?: string | undefined;
  /**
   * `GITHUB_REPOSITORY`: whether there is a repository to compare revisions in. The GitHub client itself
   * (@actions/github) reads the repository and the API URL (`GITHUB_API_URL`) from the run's context.
   */
  readonly githubRepository?: string | undefined;
  readonly dockerConfigs: DockerConfigs;
  readonly runHelper: HelperRunner;
  readonly userAgent: string;
  /** Where the proxy for https registries and GitHub's API is read (src/registry/proxy-env.ts). */
  readonly proxyEnv?: Readonly<Record<string, string | undefined>>;
}

/** The glue the action and the CLI share: build the client, run the core, always close the connections. */
export async function runWithClient(inputs: Inputs, log: Logger, environment: Environment): Promise<Result> {
  // Decided once: the registries and GitHub's API go through exactly the proxy the log names.
  const proxy = environment.proxyEnv && proxyChoice(environment.proxyEnv, (value) => log.secret(value));
  if (proxy) log.info(proxy.note);
  const client = new RegistryClient({
    credentials: credentialSource({
      ...inputs,
      githubActor: environment.githubActor,
      dockerConfigs: environment.dockerConfigs,
      runHelper: environment.runHelper,
      log,
    }),
    // A scoped login per repository (docker/login-action's `scope`): each login its own credentials and tokens.
    loginOf: (repository) => environment.dockerConfigs.loginOf(repository),
    log,
    clock: systemClock,
    plainHttp: inputs.plainHttp,
    // plain-http is meant for the target registries, never for foreign sources on public registries.
    plainHttpEndpoints: inputs.targets.map((target) => target.image.endpoint),
    userAgent: environment.userAgent,
    proxy,
  });
  const forward = inputs.ifTagExists === 'forward';
  // Only a run that orders by revision talks to GitHub, with its own connection and the token for it alone.
  const connection =
    forward && inputs.orderBy === 'revision'
      ? undiciTransport({ timeoutMs: 30_000, connections: 1, proxy })
      : undefined;
  try {
    const github = connection && gitHubFor(inputs, environment, connection, log);
    return await run(inputs, {
      client,
      log,
      clock: systemClock,
      ...(environment.githubSha ? { revision: environment.githubSha } : {}),
      ...(forward ? { ordering: ordering(inputs.orderBy, github) } : {}),
    });
  } finally {
    await Promise.all([connection?.close(), client.close()]);
  }
}

/**
 * The GitHub client (@actions/github) is a chunk of its own (scripts/bundle.js), loaded only by a run that orders
 * by revision: while its first requests are in flight, off their path, or at the first compare.
 */
function gitHubFor(
  inputs: Inputs,
  environment: Environment,
  transport: OwnedTransport,
  log: Logger,
): GitHubApi | undefined {
  const token = inputs.githubToken;
  if (!token || !environment.githubRepository) return undefined;
  const warn = (message: string): void => log.warning(message);
  const api = onDemand(async () =>
    (await import('./github-octokit.js')).gitHubApi({ token, transport, warn }),
  );
  whileRequestsInFlight(api.preload);
  return api;
}
