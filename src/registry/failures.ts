import { ErrorCode, MAX_ERROR_BODY, parseErrorBody, parseRetryAfter, RegistryError } from './errors.js';
import type { HttpRequest, HttpResponse } from './http.js';
import { canonicalName, type Repository } from './reference.js';

/** A registry's refusal as a RegistryError: its codes, and a hint that says what to do about it. */
export function registryFailure(
  repository: Repository,
  request: HttpRequest,
  response: HttpResponse,
): RegistryError {
  const text = Buffer.from(response.body.subarray(0, MAX_ERROR_BODY)).toString('utf8');
  let codes = parseErrorBody(text);
  // HEAD answers have no body: name the code the distribution spec would have sent.
  if (codes.length === 0 && response.status === 404) {
    const code = request.url.includes('/manifests/') ? ErrorCode.MANIFEST_UNKNOWN : ErrorCode.BLOB_UNKNOWN;
    codes = [
      {
        code,
        message: code === ErrorCode.MANIFEST_UNKNOWN ? 'manifest unknown' : 'blob unknown to registry',
      },
    ];
  }
  const read = request.method === 'GET' || request.method === 'HEAD';
  const exhausted = isPullLimit(response);
  let hint: string | undefined;
  if (
    response.status === 401 &&
    /error="?insufficient_scope/i.test(response.headers['www-authenticate'] ?? '')
  ) {
    // A fresh token that still lacks the scope: the credentials are right, the access is not.
    hint = `the credentials cannot ${read ? 'pull from' : 'push to'} ${canonicalName(repository)}, or the repository does not exist: check its name and the access the credentials (token scopes, GHCR package settings, Harbor project membership) grant`;
  } else if (response.status === 401) {
    hint = `authentication failed for ${repository.registry}: check the username and password (or the docker login) for ${repository.registry}`;
  } else if (exhausted) {
    hint = `the registry's pull limit is used up (ratelimit-remaining: ${(response.headers['ratelimit-remaining'] ?? '').slice(0, 40)}): on Docker Hub, log in (docker/login-action) for a higher limit, or wait for the window to pass`;
  } else if (response.status === 403) {
    hint = read
      ? `access denied to ${canonicalName(repository)}: the credentials need pull access`
      : `the registry refused to write to ${canonicalName(repository)}: the credentials need push access, or a registry rule (immutable tags, quota) forbids this write`;
  } else if (response.status === 404 && !read && codes.some((c) => c.code === ErrorCode.NAME_UNKNOWN)) {
    hint = `the repository ${canonicalName(repository)} does not exist: create it first (ECR, GAR and Harbor projects need that), or check "image"`;
  }
  return new RegistryError({
    method: request.method,
    url: request.url,
    status: response.status,
    codes,
    retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
    ...(hint ? { hint } : {}),
    exhausted,
  });
}

/** The storage a registry redirected to refused: the registry's credentials and hints are beside the point. */
export function storageFailure(request: HttpRequest, url: string, response: HttpResponse): RegistryError {
  const origin = new URL(url).origin;
  return new RegistryError({
    method: request.method,
    url: request.url,
    status: response.status,
    hint: `the registry redirected to its storage at ${origin}, which refused the read: the registry's storage link is broken or expired; retry later or report it to the registry's operator`,
    retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
  });
}

/**
 * Docker Hub's pull limit: 429 TOOMANYREQUESTS with `ratelimit-remaining: 0;w=21600` and no Retry-After. The
 * window is hours long, so retrying within wait-timeout only adds requests that count against the limit.
 */
function isPullLimit(response: HttpResponse): boolean {
  return (
    response.status === 429 &&
    response.headers['retry-after'] === undefined &&
    /^\s*0\s*(?:;|$)/.test(response.headers['ratelimit-remaining'] ?? '')
  );
}
