import type { Repository } from './reference.js';

/** Credentials for one registry, as the lookup found them. */
export type Credential =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /** An identity (refresh) token, e.g. from `identitytoken` in a Docker config or a helper's `<token>` user. */
  | { readonly kind: 'identity-token'; readonly token: string; readonly username?: string };

/**
 * Finds credentials for a registry (`ghcr.io`, `docker.io`, `localhost:5000`), for the repository a request is
 * about when a login covers only some (Docker config scopes); undefined means anonymous.
 */
export type CredentialSource = (registry: string, repository?: Repository) => Promise<Credential | undefined>;

export interface Challenge {
  /** Lowercased: `basic`, `bearer`. */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses `WWW-Authenticate`, e.g. `Bearer realm="https://x/token",service="x",scope="repository:a:pull,push"`.
 * Values may be quoted (with commas and escaped quotes inside) or bare tokens.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const pattern =
    /\s*(?:([A-Za-z][A-Za-z0-9_-]*)\s+)?([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?/y;
  let index = 0;
  let current: { scheme: string; params: Record<string, string> } | undefined;
  const text = header.trim();
  while (index < text.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (match) {
      const [, scheme, key = '', raw = ''] = match;
      if (scheme !== undefined || current === undefined) {
        current = { scheme: (scheme ?? '').toLowerCase(), params: {} };
        challenges.push(current);
      }
      current.params[key.toLowerCase()] = raw.startsWith('"')
        ? raw.slice(1, -1).replace(/\\(.)/g, '$1')
        : raw;
      index = pattern.lastIndex;
      continue;
    }
    // A scheme with no parameters, e.g. a bare `Basic`.
    const bare = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*,?/y;
    bare.lastIndex = index;
    const scheme = bare.exec(text);
    if (!scheme) break;
    current = { scheme: (scheme[1] ?? '').toLowerCase(), params: {} };
    challenges.push(current);
    index = bare.lastIndex;
  }
  return challenges;
}

/** The access a request needs: `repository:<path>:pull` or `…:pull,push`. */
export interface Scope {
  readonly repository: string;
  readonly actions: readonly ('pull' | 'push')[];
}

/** A set of scopes, merged per repository, with a stable text form used as a cache key and in token requests. */
export class ScopeSet {
  private readonly byRepository = new Map<string, Set<string>>();

  add(scope: Scope): this {
    const actions = this.byRepository.get(scope.repository) ?? new Set<string>();
    for (const action of scope.actions) actions.add(action);
    this.byRepository.set(scope.repository, actions);
    return this;
  }

  covers(scope: Scope): boolean {
    const actions = this.byRepository.get(scope.repository);
    return actions !== undefined && scope.actions.every((a) => actions.has(a));
  }

  /**
   * One string per repository in the token spec's form: those with push first (some registries read only the
   * first scope of a token request), then by name.
   */
  toStrings(): string[] {
    const pushes = (actions: Set<string>) => (actions.has('push') ? 0 : 1);
    return [...this.byRepository.entries()]
      .sort(([a, x], [b, y]) => pushes(x) - pushes(y) || (a < b ? -1 : a > b ? 1 : 0))
      .map(([repository, actions]) => `repository:${repository}:${[...actions].sort().join(',')}`);
  }

  key(): string {
    return this.toStrings().join(' ');
  }

  clone(): ScopeSet {
    const copy = new ScopeSet();
    for (const [repository, actions] of this.byRepository)
      copy.byRepository.set(repository, new Set(actions));
    return copy;
  }
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
