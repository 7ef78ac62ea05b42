import { systemClock } from './clock.js';
import { credentialSource } from './credentials.js';
import type { DockerConfig, HelperRunner } from './docker-config.js';
import type { Inputs } from './inputs.js';
import type { Logger } from './log.js';
import { RegistryClient } from './registry/client.js';
import { type Result, run } from './run.js';

export interface Environment {
  /** `GITHUB_ACTOR`, used as the user name with the GitHub token. */
  readonly githubActor?: string | undefined;
  readonly dockerConfig: DockerConfig | undefined;
  readonly runHelper: HelperRunner;
  readonly userAgent: string;
}

/** The glue the action and the CLI share: build the client, run the core, always close the connections. */
export async function runWithClient(inputs: Inputs, log: Logger, environment: Environment): Promise<Result> {
  const client = new RegistryClient({
    credentials: credentialSource({
      ...inputs,
      githubActor: environment.githubActor,
      dockerConfig: environment.dockerConfig,
      runHelper: environment.runHelper,
      log,
    }),
    log,
    clock: systemClock,
    plainHttp: inputs.plainHttp,
    // plain-http is meant for the target registry, never for foreign sources on public registries.
    plainHttpEndpoints: [inputs.image.endpoint],
    userAgent: environment.userAgent,
  });
  try {
    return await run(inputs, { client, log, clock: systemClock });
  } finally {
    await client.close();
  }
}
