import { MANIFEST_ACCEPT } from './images.js';
import type { ProxiedRequest, ProxyHandler, ProxyResponse } from './proxy.js';
import { type ErrorEntry, errorBody } from './registry-errors.js';

/**
 * What the test proxy's fault stages (chaos.ts) and registry personalities (personalities.ts) are made of: a
 * stage answers a request itself or hands it on, stages compose into one ProxyHandler, and they share how a
 * request names its content, how a registry answers an error, and how to ask the registry behind the proxy
 * something on the request's behalf.
 */

export type Outcome = ProxyResponse | 'reset';
/** Straight to the registry, past every stage. */
export type Forward = (req: ProxiedRequest) => Promise<ProxyResponse>;
/** Answers the request itself, or hands it (possibly changed) to `next`; `forward` skips the remaining stages. */
export type Stage = (
  req: ProxiedRequest,
  next: (req: ProxiedRequest) => Promise<Outcome>,
  forward: Forward,
) => Promise<Outcome>;

/** Composes stages, outermost first, into one handler for `proxy.setHandler`. */
export function compose(stages: readonly Stage[]): ProxyHandler {
  return (req, forward) => {
    const direct: Forward = (r) => forward(r);
    const run = (index: number, current: ProxiedRequest): Promise<Outcome> => {
      const stage = stages[index];
      if (stage === undefined) return direct(current);
      return stage(current, (next) => run(index + 1, next), direct);
    };
    return run(0, req);
  };
}

// ---- what a request asks for ----

export interface ContentTarget {
  kind: 'manifests' | 'blobs';
  /** Repository name; may contain slashes. */
  name: string;
  /** Tag or digest, URL-decoded. */
  reference: string;
  isDigest: boolean;
}

// Greedy name: `/v2/a/b/manifests/x` is repository a/b. Upload paths (blobs/uploads/...) are matched apart.
const CONTENT_PATH = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/;
export const UPLOAD_START = /^\/v2\/(.+)\/blobs\/uploads\/?$/;
export const UPLOAD_SESSION = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/;

export function splitPath(path: string): { pathname: string; query: URLSearchParams } {
  const question = path.indexOf('?');
  if (question < 0) return { pathname: path, query: new URLSearchParams() };
  return { pathname: path.slice(0, question), query: new URLSearchParams(path.slice(question + 1)) };
}

/** The manifest or blob the request's path names, undefined for any other path (uploads included). */
export function contentTarget(req: ProxiedRequest): ContentTarget | undefined {
  const { pathname } = splitPath(req.path);
  if (UPLOAD_START.test(pathname) || UPLOAD_SESSION.test(pathname)) return undefined;
  const match = CONTENT_PATH.exec(pathname);
  if (match === null) return undefined;
  const [, name = '', kind, encoded = ''] = match;
  const reference = decodeURIComponent(encoded);
  // Tags cannot contain ':', digests always do.
  return {
    kind: kind === 'blobs' ? 'blobs' : 'manifests',
    name,
    reference,
    isDigest: reference.includes(':'),
  };
}

// ---- a registry's error answers ----

// The registry's own error content type, so clients parse injected errors the same way as real ones.
const ERROR_CONTENT_TYPE = 'application/json; charset=utf-8';

/** An error answer as the registry words it; HEAD gets the headers and no body. */
export function errorAnswer(
  req: ProxiedRequest,
  status: number,
  errors: readonly ErrorEntry[],
  headers: Record<string, string> = {},
): ProxyResponse {
  const body = req.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(errorBody(errors));
  return { status, headers: { 'content-type': ERROR_CONTENT_TYPE, ...headers }, body };
}

// ---- asking the registry on the request's behalf ----

/** The registry's answer to this request without its credentials and body (so nothing is stored). */
export function withoutCredentials(req: ProxiedRequest, forward: Forward): Promise<ProxyResponse> {
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([name]) => name !== 'authorization'),
  );
  return forward({ ...req, headers, body: Buffer.alloc(0) });
}

/**
 * A GET or HEAD of the manifest the request's path names, with the request's credentials: what the tag a PUT
 * writes holds now. `accept` defaults to every manifest type the fixtures push.
 */
export function readManifest(
  req: ProxiedRequest,
  forward: Forward,
  method: 'GET' | 'HEAD',
  accept = MANIFEST_ACCEPT,
): Promise<ProxyResponse> {
  const headers: ProxiedRequest['headers'] = { accept };
  if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
  return forward({ method, path: splitPath(req.path).pathname, headers, body: Buffer.alloc(0) });
}
