import type { Dispatcher } from 'undici';
import { request } from './registry/undici.js';

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
  readonly dispatcher: Dispatcher;
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
      const response = await request(options.dispatcher, url.toString(), {
        method: 'GET',
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${options.token}`,
          'user-agent': 'manifest-merge',
          'x-github-api-version': '2022-11-28',
        },
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      const text = await readBounded(response.body);
      if (response.statusCode !== 200) {
        throw new Error(
          `GitHub's compare API answered ${response.statusCode} for ${options.repository} ${base}...${head}: ` +
            (response.statusCode === 404
              ? 'a revision is not in this repository (or the token cannot read it)'
              : 'check github-token (it needs contents: read)'),
        );
      }
      const status = (safeJson(text) as { status?: unknown } | undefined)?.status;
      if (status === 'ahead' || status === 'behind' || status === 'identical' || status === 'diverged')
        return status;
      throw new Error(`GitHub's compare API answered without a status for ${base}...${head}`);
    },
  };
}

async function readBounded(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > MAX_BODY) throw new Error('GitHub answered with more than 1 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
