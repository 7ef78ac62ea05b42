import { dockerConfigCredential, type HelperRunner } from './docker-config.js';
import type { DockerConfigs } from './docker-config-files.js';
import type { Logger } from './log.js';
import type { Credential, CredentialSource } from './registry/auth.js';
import type { Repository } from './registry/reference.js';

export interface CredentialOptions {
  readonly image: Repository;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly githubToken: string | undefined;
  /** The user the GitHub token belongs to (`GITHUB_ACTOR`); GHCR accepts any name with a token. */
  readonly githubActor?: string | undefined;
  /** The Docker configs to look in for a repository, in order (the scoped login covering it, then the main one). */
  readonly dockerConfigs?: Pick<DockerConfigs, 'configsFor'>;
  readonly runHelper?: HelperRunner;
  readonly log: Logger;
}

/**
 * Credentials in the contract's order: the `username`/`password` inputs (for the target registry), the Docker
 * config (credential helpers included), the GitHub token for ghcr.io, then anonymous. Every secret found is
 * masked before anything else happens with it.
 */
export function credentialSource(options: CredentialOptions): CredentialSource {
  return async (registry, repository): Promise<Credential | undefined> => {
    const found = await lookup(options, registry, repository);
    if (found) maskSecret(options.log, found);
    options.log.debug(`credentials for ${registry}: ${describe(found)}`);
    return found;
  };
}

function maskSecret(log: Logger, credential: Credential): void {
  if (credential.kind === 'identity-token') {
    log.secret(credential.token);
    return;
  }
  log.secret(credential.password);
  // Also `user:password`, whose base64 is the Basic header and a Docker config's `auth` value.
  log.secret(`${credential.username}:${credential.password}`);
}

async function lookup(
  options: CredentialOptions,
  registry: string,
  repository: Repository | undefined,
): Promise<Credential | undefined> {
  if (registry === options.image.registry && options.username && options.password) {
    return { kind: 'basic', username: options.username, password: options.password };
  }
  for (const config of options.dockerConfigs?.configsFor(repository) ?? []) {
    if (!options.runHelper) break;
    const found = await dockerConfigCredential(config, registry, options.runHelper);
    if (found) return found;
  }
  if (registry === 'ghcr.io' && options.githubToken) {
    return {
      kind: 'basic',
      username: options.githubActor || 'github-actions',
      password: options.githubToken,
    };
  }
  return undefined;
}

/** Says where credentials came from without a trace of the secret. */
function describe(credential: Credential | undefined): string {
  if (!credential) return 'none (anonymous)';
  return credential.kind === 'basic' ? `user ${credential.username}` : 'an identity token';
}
