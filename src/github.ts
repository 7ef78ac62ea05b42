/**
 * The one GitHub REST API question the action asks: whether a commit is ahead of another (the compare endpoint),
 * for `if-tag-exists: forward` with `order-by: revision`. The client (@actions/github, src/github-octokit.ts) is a
 * chunk of its own, loaded only by runs that order by revision.
 */

export type Ancestry = 'ahead' | 'behind' | 'identical' | 'diverged';

export interface GitHubApi {
  /** How `head` relates to `base` in the repository. */
  compare(base: string, head: string): Promise<Ancestry>;
}

/** A full or abbreviated commit SHA, hex. */
export function isCommitSha(value: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(value);
}

/**
 * A GitHubApi made by `load` the first time it is needed, or earlier when `preload` is called (while the first
 * requests are in flight), so loading the client costs no time on the requests' path. Loaded once.
 */
export function onDemand(load: () => Promise<GitHubApi>): GitHubApi & { preload(): void } {
  let loaded: Promise<GitHubApi> | undefined;
  const api = (): Promise<GitHubApi> => {
    loaded ??= load();
    return loaded;
  };
  return {
    preload: () => {
      // A failure is reported by the compare that needs the client.
      api().catch(() => {});
    },
    compare: async (base, head) => (await api()).compare(base, head),
  };
}
