import type { Transport } from './registry/http.js';

/**
 * The one GitHub REST API call the action makes: whether a commit is ahead of another (the compare endpoint), for
 * `if-tag-exists: forward` with `order-by: revision`. The token goes to the API origin only: redirects are not
 * followed, and the URL is built from GITHUB_API_URL, never from a registry's answer.
 */

export type Ancestry = 'ahead' | 'behind' | 'identical' | 'diverged';

export interface GitHubApi {
  /** How `head` relates to `base` in the repository. */
  compare(base: string, head: string): Promise<Ancestry>;
}

export interface GitHubApiOptions {
  /** GITHUB_API_URL, e.g. https://api.github.com. */
  readonly apiUrl: string;
  /** GITHUB_REPOSITORY, `owner/name`. */
  readonly repository: string;
  readonly token: string;
  readonly transport: Transport;
  readonly timeoutMs?: number;
}

const MAX_BODY = 1024 * 1024;

/** A full or abbreviated commit SHA, hex. */
export function isCommitSha(value: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(value);
}

export function gitHubApi(options: GitHubApiOptions): GitHubApi {
  const api = new URL(options.apiUrl);
  if (api.protocol !== 'https:' && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(api.hostname)) {
    throw new Error(`GITHUB_API_URL ${api.origin} is not HTTPS: refusing to send the GitHub token there`);
  }
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(options.repository)) {
    throw new Error(`GITHUB_REPOSITORY "${options.repository.slice(0, 100)}" is not owner/name`);
  }
  return {
    async compare(base, head) {
      for (const sha of [base, head]) {
        if (!isCommitSha(sha))
          throw new Error(`"${sha.slice(0, 80)}" is not a commit SHA; cannot compare revisions`);
      }
      const path = `${api.pathname.replace(/\/$/, '')}/repos/${options.repository}/compare/${base}...${head}`;
      const url = new URL(path, api.origin);
      url.searchParams.set('per_page', '1');
      const response = await options.transport.send(
        {
          method: 'GET',
          url: url.toString(),
          headers: {
            accept: 'application/vnd.github+json',
            authorization: `Bearer ${options.token}`,
            'user-agent': 'manifest-merge',
            'x-github-api-version': '2022-11-28',
          },
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        },
        MAX_BODY,
      );
      if (response.status !== 200) {
        throw new Error(
          `GitHub's compare API answered ${response.status} for ${options.repository} ${base}...${head}: ` +
            (response.status === 404
              ? 'a revision is not in this repository (or the token cannot read it)'
              : 'check github-token (it needs contents: read)'),
        );
      }
      const status = (
        safeJson(Buffer.from(response.body).toString('utf8')) as { status?: unknown } | undefined
      )?.status;
      if (status === 'ahead' || status === 'behind' || status === 'identical' || status === 'diverged')
        return status;
      throw new Error(`GitHub's compare API answered without a status for ${base}...${head}`);
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
