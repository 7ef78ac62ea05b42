import { sha256Digest } from './images.js';
import type { ProxiedRequest, ProxyHandler, TestProxy } from './proxy.js';
import type { TestRegistry } from './registry.js';
import type { ErrorEntry } from './registry-errors.js';
import {
  compose,
  contentTarget,
  errorAnswer,
  type Forward,
  readManifest,
  type Stage,
  splitPath,
  UPLOAD_SESSION,
  UPLOAD_START,
  withoutCredentials,
} from './stages.js';

/**
 * Registry personalities for the test proxy (SPEC Guarantee 8): the protocol behaviours of real registries other
 * than distribution, each one small stage in front of a real distribution registry, composed into one
 * ProxyHandler the way chaos.ts composes its faults. Every stage says which registry behaves that way, answers
 * the request itself or hands it on, and counts what it did so tests can assert on it.
 *
 * Order matters when composing: stages run outermost first. `realmThroughProxy` goes first (it rewrites
 * challenges made further in), `tokenServerRoute` last (it answers token requests in place of the registry).
 */

/** Composes stages, outermost first, into one handler for `proxy.setHandler`. */
export function personality(...stages: Stage[]): ProxyHandler {
  return compose(stages);
}

/** Wraps a whole handler (e.g. `chaos(...).handler`) as a stage, so faults compose with personalities. */
export function fromHandler(handler: ProxyHandler): Stage {
  return (req, next) =>
    handler(req, async (override) => {
      const res = await next(override ?? req);
      if (res === 'reset') throw new Error('personality: an inner stage reset the connection');
      return res;
    });
}

// ---- token registries behind the proxy (plumbing, not a personality) ----

/**
 * Rewrites the token realm in every challenge to the proxy (`<proxy>/token`), so token requests come through the
 * proxy too: into its log, and past the token-endpoint personalities. Put it first.
 */
export function realmThroughProxy(tokenUrl: string, proxyUrl: () => string): Stage {
  const realm = new URL(tokenUrl);
  return async (req, next) => {
    const res = await next(req);
    if (res === 'reset') return res;
    const challenge = res.headers['www-authenticate'];
    if (typeof challenge === 'string') {
      res.headers['www-authenticate'] = challenge.replaceAll(realm.href, `${proxyUrl()}${realm.pathname}`);
    }
    return res;
  };
}

/** Answers requests for the token path from the token server instead of the registry. Put it last. */
export function tokenServerRoute(tokenUrl: string): Stage {
  const realm = new URL(tokenUrl);
  return async (req, next) => {
    if (!isTokenRequest(req, realm)) return next(req);
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const res = await fetch(new URL(req.path, realm.origin), {
      method: req.method,
      headers,
      ...(req.method === 'POST' ? { body: req.body } : {}),
    });
    return {
      status: res.status,
      headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' },
      body: Buffer.from(await res.arrayBuffer()),
    };
  };
}

/** `realmThroughProxy`, the given stages, then `tokenServerRoute`: a token registry with a personality. */
export function tokenRegistry(tokenUrl: string, proxyUrl: () => string, ...stages: Stage[]): ProxyHandler {
  return personality(realmThroughProxy(tokenUrl, proxyUrl), ...stages, tokenServerRoute(tokenUrl));
}

/** `tokenRegistry` for a token-mode test registry behind the test proxy. */
export function tokenRegistryBehind(reg: TestRegistry, proxy: TestProxy, ...stages: Stage[]): ProxyHandler {
  return tokenRegistry(tokenUrlOf(reg), () => proxy.url, ...stages);
}

/** The token server's URL of a token-mode test registry; throws for any other. */
export function tokenUrlOf(reg: TestRegistry): string {
  const url = reg.tokenServer?.url;
  if (url === undefined) throw new Error('token registry without a token server');
  return url;
}

// ---- 1. cross-repository mount answers ----

/**
 * A mount answered 202: the registry opened an ordinary upload instead of mounting. GHCR does this across
 * organisations, ECR when blob mounting is off, Quay when the user cannot read `from`. Emulated by forwarding the
 * POST without `mount` and `from`, so the registry really opens an upload; `opened` lists the Locations handed
 * out (the client must finish each one with a PUT, never DELETE it, never open another upload for the blob).
 */
export function mountOpensUpload(): Stage & { readonly opened: string[] } {
  const opened: string[] = [];
  const stage: Stage = async (req, next) => {
    if (!isMount(req)) return next(req);
    const { pathname, query } = splitPath(req.path);
    query.delete('mount');
    query.delete('from');
    const rest = query.toString();
    const res = await next({ ...req, path: rest ? `${pathname}?${rest}` : pathname });
    const location = res === 'reset' ? undefined : res.headers['location'];
    if (typeof location === 'string') opened.push(location);
    return res;
  };
  return Object.assign(stage, { opened });
}

/**
 * A mount refused with 401 UNAUTHORIZED "project <from> not found": Harbor, when the user has no access to the
 * source project. A token registry's 401 carries a challenge, so the registry's own challenge for the request
 * (fetched by replaying it without credentials) goes with it when there is one: the client may fetch a fresh
 * token once and try again, and must then upload without mount.
 */
export function mountRefusedUnauthorized(): Stage & { readonly refused: number } {
  const counter = { refused: 0 };
  const stage: Stage = async (req, next, forward) => {
    if (!isMount(req)) return next(req);
    counter.refused++;
    const from = splitPath(req.path).query.get('from') ?? '';
    const project = from.split('/')[0] ?? from;
    const challenge = await registryChallenge(req, forward);
    return errorAnswer(
      req,
      401,
      [{ code: 'UNAUTHORIZED', message: `project ${project} not found` }],
      challenge === undefined ? {} : { 'www-authenticate': challenge },
    );
  };
  return withCounters(stage, counter);
}

/**
 * A mount refused with 404: GitLab-like registries answer a source repository the user cannot see as unknown
 * rather than opening an upload.
 */
export function mountRefusedNotFound(): Stage & { readonly refused: number } {
  const counter = { refused: 0 };
  const stage: Stage = async (req, next) => {
    if (!isMount(req)) return next(req);
    counter.refused++;
    return errorAnswer(req, 404, [
      { code: 'NAME_UNKNOWN', message: 'repository name not known to registry' },
    ]);
  };
  return withCounters(stage, counter);
}

/**
 * A manifest GET in a repository the registry does not know answered 404 NAME_UNKNOWN "repository name not known
 * to registry", as GHCR and Harbor answer (distribution answers MANIFEST_UNKNOWN). Whether the repository is
 * known is asked of the registry behind: its tag list answers 404 NAME_UNKNOWN for an unknown repository.
 */
export function unknownRepositoryNamed(): Stage & { readonly named: number } {
  const counter = { named: 0 };
  const stage: Stage = async (req, next, forward) => {
    const target = contentTarget(req);
    if (req.method !== 'GET' || target?.kind !== 'manifests') return next(req);
    const res = await next(req);
    if (res === 'reset' || res.status !== 404) return res;
    const tags = await forward({
      method: 'GET',
      path: `/v2/${target.name}/tags/list`,
      headers: req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization },
      body: Buffer.alloc(0),
    });
    if (tags.status !== 404) return res;
    counter.named++;
    return errorAnswer(req, 404, [
      { code: 'NAME_UNKNOWN', message: 'repository name not known to registry' },
    ]);
  };
  return withCounters(stage, counter);
}

// ---- 2. immutable tags ----

export type ImmutableFlavour = 'ecr' | 'quay' | 'harbor' | 'dockerhub';

/**
 * How each registry refuses to rewrite an immutable tag, even to the digest it already holds:
 * - ECR (image tag mutability IMMUTABLE): 400 TAG_INVALID "The image tag '<tag>' already exists in the '<repo>'
 *   repository and cannot be overwritten because the tag is immutable."
 * - Quay (immutable tags): 409 TAG_IMMUTABLE, with no message.
 * - Harbor (tag immutability rules): 412 PRECONDITION "Failed to process request due to '<tag>' configured as
 *   immutable."
 * - Docker Hub (immutable tags): 403 DENIED.
 */
export const IMMUTABLE_FLAVOURS: Record<
  ImmutableFlavour,
  (repo: string, tag: string) => { status: number; error: ErrorEntry }
> = {
  ecr: (repo, tag) => ({
    status: 400,
    error: {
      code: 'TAG_INVALID',
      message: `The image tag '${tag}' already exists in the '${repo}' repository and cannot be overwritten because the tag is immutable.`,
    },
  }),
  quay: () => ({ status: 409, error: { code: 'TAG_IMMUTABLE' } }),
  harbor: (_repo, tag) => ({
    status: 412,
    error: {
      code: 'PRECONDITION',
      message: `Failed to process request due to '${tag}' configured as immutable.`,
    },
  }),
  dockerhub: () => ({
    status: 403,
    error: { code: 'DENIED', message: 'requested access to the resource is denied' },
  }),
};

/**
 * Immutable tags in `flavour`'s words: a manifest PUT to a tag that already exists is refused (whatever it
 * holds). With `loseFirstAnswer`, the first tag PUT reaches the registry (the tag is written) but the client's
 * connection is reset before the answer, so its retry meets the refusal, as after a lost 201 on a real network.
 */
export function immutableTags(
  flavour: ImmutableFlavour,
  options: { loseFirstAnswer?: boolean } = {},
): Stage & { readonly refused: number; readonly lost: number } {
  const counter = { refused: 0, lost: 0 };
  let lose = options.loseFirstAnswer === true;
  const stage: Stage = async (req, next, forward) => {
    const target = contentTarget(req);
    if (req.method !== 'PUT' || target?.kind !== 'manifests' || target.isDigest) return next(req);
    if (await tagExists(req, forward)) {
      counter.refused++;
      const { status, error } = IMMUTABLE_FLAVOURS[flavour](target.name, target.reference);
      return errorAnswer(req, status, [error]);
    }
    const res = await next(req);
    if (lose && res !== 'reset' && res.status < 300) {
      lose = false;
      counter.lost++;
      return 'reset';
    }
    return res;
  };
  return withCounters(stage, counter);
}

// ---- 3. insufficient_scope ----

/**
 * Every PUT answered 401 with the registry's challenge plus `error="insufficient_scope"`: what distribution's
 * token auth answers when the token, fresh and valid, lacks push on the repository (a read-only token, a
 * repository the user may not write or that does not exist); Docker Hub's `insufficient_scope: authorization
 * failed` is the familiar form.
 */
export function insufficientScope(): Stage & { readonly refused: number } {
  const counter = { refused: 0 };
  const stage: Stage = async (req, next, forward) => {
    if (req.method !== 'PUT') return next(req);
    counter.refused++;
    const challenge = await registryChallenge(req, forward);
    if (challenge === undefined) throw new Error('insufficientScope: the registry gave no challenge');
    const scoped = challenge.includes('scope=')
      ? challenge
      : `${challenge},scope="repository:${contentTarget(req)?.name ?? ''}:pull,push"`;
    return errorAnswer(req, 401, [{ code: 'UNAUTHORIZED', message: 'authentication required' }], {
      'www-authenticate': `${scoped},error="insufficient_scope"`,
    });
  };
  return withCounters(stage, counter);
}

// ---- 4. token endpoint variants ----

/**
 * The token endpoint answers `{"access_token": "…"}` alone: no `token`, no `expires_in`. GHCR and Quay do.
 */
export function accessTokenOnly(tokenUrl: string): Stage & { readonly rewritten: number } {
  const realm = new URL(tokenUrl);
  const counter = { rewritten: 0 };
  const stage: Stage = async (req, next) => {
    const res = await next(req);
    if (!isTokenRequest(req, realm) || res === 'reset' || res.status !== 200) return res;
    const parsed = JSON.parse(res.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
    const value = parsed.access_token ?? parsed.token;
    counter.rewritten++;
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ access_token: value })),
    };
  };
  return withCounters(stage, counter);
}

/**
 * The token endpoint has no OAuth2 flow: the POST (refresh-token grant) is refused, with 400 by Azure ACR and
 * 401 by JFrog Artifactory (containerd's docker authorizer lists both, with GCR's 404). Clients must fall back
 * to GET with Basic. The bodies are illustrative; only the status matters.
 */
export function oauthPostRefused(status: 400 | 401, tokenUrl: string): Stage & { readonly refused: number } {
  const realm = new URL(tokenUrl);
  const counter = { refused: 0 };
  const stage: Stage = async (req, next) => {
    if (req.method !== 'POST' || !isTokenRequest(req, realm)) return next(req);
    counter.refused++;
    const body =
      status === 400
        ? { errors: [{ code: 'UNSUPPORTED', message: 'grant type not supported' }] }
        : { errors: [{ status: 401, message: 'Bad credentials' }] };
    return {
      status,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(body)),
    };
  };
  return withCounters(stage, counter);
}

/**
 * The token endpoint's GET takes an identity (refresh) token as the password of the user `<token>`, as Azure ACR
 * does for `docker login` identity tokens. Emulated by swapping that Basic pair for the token server's real user;
 * `users` records the user name of every Basic token GET, `swapped` how many carried the identity token.
 */
export function identityTokenAsPassword(
  tokenUrl: string,
  identityToken: string,
  user: { username: string; password: string },
): Stage & { readonly users: string[]; readonly swapped: number } {
  const realm = new URL(tokenUrl);
  const users: string[] = [];
  const counter = { swapped: 0 };
  const stage: Stage = async (req, next) => {
    if (req.method !== 'GET' || !isTokenRequest(req, realm)) return next(req);
    const basic = parseBasic(req.headers.authorization);
    if (basic === undefined) return next(req);
    users.push(basic.username);
    if (basic.username !== '<token>' || basic.password !== identityToken) return next(req);
    counter.swapped++;
    const authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    return next({ ...req, headers: { ...req.headers, authorization } });
  };
  return Object.assign(withCounters(stage, counter), { users });
}

// ---- 5. ECR's Basic challenge ----

/**
 * AWS ECR challenges with Basic, not Bearer: `Basic realm="https://<host>/",service="ecr.amazonaws.com"`, and a
 * text/plain body `Not Authorized`. Every Basic 401 of the (htpasswd) registry is rewritten that way.
 */
export function ecrBasicChallenge(proxyHost: () => string): Stage & { readonly challenged: number } {
  const counter = { challenged: 0 };
  const stage: Stage = async (req, next) => {
    const res = await next(req);
    if (res === 'reset' || res.status !== 401) return res;
    const challenge = res.headers['www-authenticate'];
    if (typeof challenge !== 'string' || !/^basic\b/i.test(challenge)) return res;
    counter.challenged++;
    return {
      status: 401,
      headers: {
        'www-authenticate': `Basic realm="https://${proxyHost()}/",service="ecr.amazonaws.com"`,
        'content-type': 'text/plain; charset=utf-8',
      },
      body: req.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from('Not Authorized\n'),
    };
  };
  return withCounters(stage, counter);
}

// ---- 6. rate limits ----

/**
 * Docker Hub's exhausted pull limit: manifest GETs answered 429 TOOMANYREQUESTS with `ratelimit-limit: 100;w=21600`
 * and `ratelimit-remaining: 0;w=21600`, and no Retry-After (the window is six hours). HEADs are not limited.
 */
export function pullLimitExhausted(): Stage & { readonly limited: number } {
  const counter = { limited: 0 };
  const stage: Stage = async (req, next) => {
    if (req.method !== 'GET' || contentTarget(req)?.kind !== 'manifests') return next(req);
    counter.limited++;
    return errorAnswer(
      req,
      429,
      [
        {
          code: 'TOOMANYREQUESTS',
          message:
            'You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
        },
      ],
      {
        'ratelimit-limit': '100;w=21600',
        'ratelimit-remaining': '0;w=21600',
        'docker-ratelimit-source': '127.0.0.1',
      },
    );
  };
  return withCounters(stage, counter);
}

/**
 * GHCR's throttling: 429 TOOMANYREQUESTS whose only hint of a wait is in the message (`retry-after: 1.2ms,
 * allowed: 44000/minute`), no Retry-After header, no ratelimit headers. The first `times` requests get it.
 */
export function throttledAtFirst(times: number): Stage & { readonly throttled: number } {
  const counter = { throttled: 0 };
  const stage: Stage = async (req, next) => {
    if (counter.throttled >= times) return next(req);
    counter.throttled++;
    return errorAnswer(req, 429, [
      { code: 'TOOMANYREQUESTS', message: 'retry-after: 1.243ms, allowed: 44000/minute' },
    ]);
  };
  return withCounters(stage, counter);
}

// ---- 7. pulls counted by GET ----

/**
 * Docker Hub counts a pull for each manifest GET, never for a HEAD. Records, per manifest reference, the status
 * of every GET and how many HEADs were made, so a test can check that polling costs no pulls.
 */
export function countsPulls(): Stage & {
  readonly gets: Map<string, number[]>;
  readonly heads: Map<string, number>;
} {
  const gets = new Map<string, number[]>();
  const heads = new Map<string, number>();
  const stage: Stage = async (req, next) => {
    const target = contentTarget(req);
    const res = await next(req);
    if (target?.kind !== 'manifests') return res;
    const key = `${target.name}@${target.reference}`;
    if (req.method === 'GET') gets.set(key, [...(gets.get(key) ?? []), res === 'reset' ? 0 : res.status]);
    if (req.method === 'HEAD') heads.set(key, (heads.get(key) ?? 0) + 1);
    return res;
  };
  return Object.assign(stage, { gets, heads });
}

// ---- 8. body limits and chunk minimums ----

/**
 * Azure ACR refuses a blob upload request carrying more than about 20 MB with 413: blob upload PUTs and PATCHes
 * whose body exceeds `maxBytes` are answered 413 (the body is not stored). `refused` lists the refused sizes.
 */
export function bodyLimit(maxBytes: number): Stage & { readonly refused: number[] } {
  const refused: number[] = [];
  const stage: Stage = async (req, next) => {
    const isUpload = UPLOAD_SESSION.test(splitPath(req.path).pathname);
    if (!isUpload || (req.method !== 'PUT' && req.method !== 'PATCH') || req.body.length <= maxBytes) {
      return next(req);
    }
    refused.push(req.body.length);
    return errorAnswer(req, 413, [
      { code: 'SIZE_INVALID', message: `request body of ${req.body.length} bytes exceeds ${maxBytes}` },
    ]);
  };
  return Object.assign(stage, { refused });
}

/**
 * The distribution spec's `OCI-Chunk-Min-Length` on the answer that opens an upload: chunks other than the last
 * must be at least that long (registries on object stores with a minimum part size need it). Records the body
 * length of every accepted PATCH per upload session, in order, for checking.
 */
export function chunkMinLength(bytes: number): Stage & { readonly patches: Map<string, number[]> } {
  const patches = new Map<string, number[]>();
  const stage: Stage = async (req, next) => {
    const res = await next(req);
    if (res === 'reset') return res;
    const { pathname } = splitPath(req.path);
    if (req.method === 'POST' && UPLOAD_START.test(pathname) && res.status === 202) {
      res.headers['oci-chunk-min-length'] = String(bytes);
    }
    if (req.method === 'PATCH' && res.status < 300) {
      const session = UPLOAD_SESSION.exec(pathname)?.[2] ?? pathname;
      patches.set(session, [...(patches.get(session) ?? []), req.body.length]);
    }
    return res;
  };
  return Object.assign(stage, { patches });
}

// ---- 9-11. HEAD and PUT answer variants ----

/** HEAD on manifests answered 405 Method Not Allowed, as some registries (and registry fronts) do. */
export function manifestHeadNotAllowed(): Stage & { readonly refused: number } {
  const counter = { refused: 0 };
  const stage: Stage = async (req, next) => {
    if (req.method !== 'HEAD' || contentTarget(req)?.kind !== 'manifests') return next(req);
    counter.refused++;
    return { status: 405, headers: { allow: 'GET, PUT, DELETE' }, body: Buffer.alloc(0) };
  };
  return withCounters(stage, counter);
}

/**
 * Success statuses other than the spec's 201: a stored manifest answered 200 or 202, a finished blob upload
 * (the closing PUT) 200 or 204. Registries vary here (the client's own comments name 200/202 for manifests and
 * 200/204 for uploads). Headers are kept; a 204 has no body.
 */
export function putStatus(statuses: {
  manifest?: 200 | 202;
  blob?: 200 | 204;
}): Stage & { readonly manifests: number; readonly blobs: number } {
  const counter = { manifests: 0, blobs: 0 };
  const stage: Stage = async (req, next) => {
    const res = await next(req);
    if (req.method !== 'PUT' || res === 'reset' || res.status !== 201) return res;
    const { pathname } = splitPath(req.path);
    if (statuses.manifest !== undefined && contentTarget(req)?.kind === 'manifests') {
      counter.manifests++;
      return { ...res, status: statuses.manifest };
    }
    if (statuses.blob !== undefined && UPLOAD_SESSION.test(pathname)) {
      counter.blobs++;
      return { ...res, status: statuses.blob, body: statuses.blob === 204 ? Buffer.alloc(0) : res.body };
    }
    return res;
  };
  return withCounters(stage, counter);
}

/**
 * HEAD on manifests answered without `Docker-Content-Digest`, as reported of JFrog Artifactory 4.x and Harbor
 * before 2.1.3: a HEAD then cannot say which digest a tag holds.
 */
export function headWithoutDigest(): Stage & { readonly stripped: number } {
  const counter = { stripped: 0 };
  const stage: Stage = async (req, next) => {
    const res = await next(req);
    if (req.method !== 'HEAD' || res === 'reset' || contentTarget(req)?.kind !== 'manifests') return res;
    if (res.headers['docker-content-digest'] === undefined) return res;
    counter.stripped++;
    const { 'docker-content-digest': _, ...headers } = res.headers;
    return { ...res, headers };
  };
  return withCounters(stage, counter);
}

/**
 * HEAD on manifests answered `Content-Type: application/json` instead of the manifest's media type, as reported
 * of Harbor before 2.1.3 and JFrog Artifactory 4.x.
 */
export function headAsJson(): Stage & { readonly retyped: number } {
  const counter = { retyped: 0 };
  const stage: Stage = async (req, next) => {
    const res = await next(req);
    if (req.method !== 'HEAD' || res === 'reset' || res.status !== 200) return res;
    if (contentTarget(req)?.kind !== 'manifests') return res;
    counter.retyped++;
    return { ...res, headers: { ...res.headers, 'content-type': 'application/json' } };
  };
  return withCounters(stage, counter);
}

// ---- 12. Quay/zot's missing-child answer ----

/**
 * An index PUT (by digest or tag) refused while a child is not visible yet with 400 MANIFEST_INVALID and the
 * detail "Unable to retrieve child manifest": Quay (endpoints/v2/manifest.py) and zot say so where distribution
 * says MANIFEST_BLOB_UNKNOWN. The first `times` index PUTs get it.
 */
export function childManifestLag(times: number): Stage & { readonly refused: number } {
  const counter = { refused: 0 };
  const stage: Stage = async (req, next) => {
    if (req.method !== 'PUT' || contentTarget(req)?.kind !== 'manifests' || counter.refused >= times) {
      return next(req);
    }
    if (!isIndexBody(req.body)) return next(req);
    counter.refused++;
    return errorAnswer(req, 400, [
      {
        code: 'MANIFEST_INVALID',
        message: 'manifest invalid',
        detail: { message: 'Unable to retrieve child manifest' },
      },
    ]);
  };
  return withCounters(stage, counter);
}

// ---- 13. ECR's required mediaType ----

/**
 * A manifest PUT whose JSON has no top-level `mediaType` refused as ECR refuses it: the field is optional in the
 * OCI image spec, but ECR answers UNSUPPORTED "Invalid JSON syntax" without it (containers/image#584; the ECR API
 * documents `imageManifestMediaType` for such manifests).
 */
export function mediaTypeRequired(): Stage & { readonly refused: number } {
  const counter = { refused: 0 };
  const stage: Stage = async (req, next) => {
    if (req.method !== 'PUT' || contentTarget(req)?.kind !== 'manifests') return next(req);
    let parsed: { mediaType?: unknown } | undefined;
    try {
      parsed = JSON.parse(req.body.toString('utf8')) as { mediaType?: unknown };
    } catch {
      return next(req);
    }
    if (parsed?.mediaType !== undefined) return next(req);
    counter.refused++;
    return errorAnswer(req, 400, [
      {
        code: 'UNSUPPORTED',
        message: "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
      },
    ]);
  };
  return withCounters(stage, counter);
}

// ---- 14. the OCI referrers API ----

/**
 * The OCI referrers API (distribution spec 1.1), which Docker Hub, ECR, ACR, Harbor >= 2.10, Quay >= 3.12, zot
 * and distribution v3 have and the distribution 2.8 behind the proxy has not: a manifest PUT (by digest or tag)
 * whose body names a `subject` is answered with `OCI-Subject: <subject digest>` and indexed;
 * `GET /v2/<name>/referrers/<digest>` answers an OCI index of the manifests indexed under that subject (each with
 * `artifactType`, else its config's media type, and its annotations), filtered by `?artifactType=` with
 * `OCI-Filters-Applied`. Only manifests PUT through the proxy are indexed, so fixtures go through it too.
 * `listed` counts the referrers requests answered, `indexed` the manifests indexed.
 */
export function referrersApi(): Stage & { readonly listed: number; readonly indexed: number } {
  const counter = { listed: 0, indexed: 0 };
  /** Per repository, per subject digest: the referrers' descriptors by digest. */
  const index = new Map<string, Map<string, Map<string, Record<string, unknown>>>>();
  const stage: Stage = async (req, next) => {
    const { pathname, query } = splitPath(req.path);
    const listing = REFERRERS_PATH.exec(pathname);
    if (listing !== null && req.method === 'GET') {
      counter.listed++;
      const [, name = '', subject = ''] = listing;
      const type = query.get('artifactType');
      const manifests = [...(index.get(name)?.get(decodeURIComponent(subject))?.values() ?? [])]
        .filter((d) => type === null || d['artifactType'] === type)
        .sort((a, b) => (String(a['digest']) < String(b['digest']) ? -1 : 1));
      return {
        status: 200,
        headers: {
          'content-type': 'application/vnd.oci.image.index.v1+json',
          ...(type === null ? {} : { 'oci-filters-applied': 'artifactType' }),
        },
        body: Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests,
          }),
        ),
      };
    }
    const target = contentTarget(req);
    if (req.method !== 'PUT' || target?.kind !== 'manifests') return next(req);
    const res = await next(req);
    if (res === 'reset' || res.status !== 201) return res;
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return res;
    }
    const subject = (manifest['subject'] as { digest?: unknown } | undefined)?.digest;
    if (typeof subject !== 'string') return res;
    const digest = sha256Digest(req.body);
    const config = (manifest['config'] as { mediaType?: unknown } | undefined)?.mediaType;
    const artifactType = manifest['artifactType'] ?? config;
    const annotations = manifest['annotations'];
    const bySubject = index.get(target.name) ?? new Map<string, Map<string, Record<string, unknown>>>();
    index.set(target.name, bySubject);
    const referrers = bySubject.get(subject) ?? new Map<string, Record<string, unknown>>();
    bySubject.set(subject, referrers);
    referrers.set(digest, {
      mediaType: req.headers['content-type'] ?? manifest['mediaType'],
      digest,
      size: req.body.length,
      ...(artifactType === undefined ? {} : { artifactType }),
      ...(annotations === undefined ? {} : { annotations }),
    });
    counter.indexed++;
    return { ...res, headers: { ...res.headers, 'oci-subject': subject } };
  };
  return withCounters(stage, counter);
}

const REFERRERS_PATH = /^\/v2\/(.+)\/referrers\/([^/]+)$/;

// ---- helpers ----

function isMount(req: ProxiedRequest): boolean {
  const { pathname, query } = splitPath(req.path);
  return req.method === 'POST' && UPLOAD_START.test(pathname) && query.has('mount');
}

function isTokenRequest(req: ProxiedRequest, realm: URL): boolean {
  return splitPath(req.path).pathname === realm.pathname;
}

function isIndexBody(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { manifests?: unknown };
    return Array.isArray(parsed.manifests);
  } catch {
    return false;
  }
}

/** Whether the tag a manifest PUT names exists now, asked of the registry with the request's credentials. */
async function tagExists(req: ProxiedRequest, forward: Forward): Promise<boolean> {
  const res = await readManifest(req, forward, 'HEAD');
  if (res.status !== 200 && res.status !== 404) {
    throw new Error(`immutableTags: HEAD ${req.path} answered ${res.status}`);
  }
  return res.status === 200;
}

/** The registry's challenge for this request without credentials (nothing is stored: no body), if it has one. */
async function registryChallenge(req: ProxiedRequest, forward: Forward): Promise<string | undefined> {
  const res = await withoutCredentials(req, forward);
  const challenge = res.headers['www-authenticate'];
  return res.status === 401 && typeof challenge === 'string' ? challenge : undefined;
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? { username: decoded, password: '' }
    : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Exposes the counter's fields as live read-only properties of the stage. */
function withCounters<C extends Record<string, number>>(stage: Stage, counter: C): Stage & Readonly<C> {
  for (const name of Object.keys(counter)) {
    Object.defineProperty(stage, name, { get: () => counter[name], enumerable: true });
  }
  return stage as Stage & Readonly<C>;
}
