import type { Credential, CredentialSource } from './registry/auth.js';
import type { Repository } from './registry/reference.js';

export interface CredentialOptions {
  readonly image: Repository;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly githubToken: string | undefined;
  /** The user the GitHub token belongs to (`GITHUB_ACTOR`); GHCR accepts any name with a token. */
  readonly githubActor?: string | undefined;
}

/** Credentials in the contract's order: the inputs for the target registry, then the GitHub token for ghcr.io. */
export function credentialSource(options: CredentialOptions): CredentialSource {
  return async (registry): Promise<Credential | undefined> => {
    if (registry === options.image.registry && options.username && options.password) {
      return { kind: 'basic', username: options.username, password: options.password };
    }
    if (registry === 'ghcr.io' && options.githubToken) {
      return {
        kind: 'basic',
        username: options.githubActor || 'github-actions',
        password: options.githubToken,
      };
    }
    return undefined;
  };
}
