import { MANIFEST_ACCEPT, sha256Digest } from './images.js';
import type { ProxiedRequest, ProxyHandler, ProxyResponse } from './proxy.js';
import {
  type ContentTarget,
  compose,
  contentTarget,
  errorAnswer,
  type Forward,
  type Outcome,
  readManifest,
  type Stage,
  splitPath,
  UPLOAD_SESSION,
  withoutCredentials,
} from './stages.js';

/**
 * Fault injection for the test proxy: the ways real registries misbehave (slow answers, rate limits, resets,
 * eventually consistent reads after writes, stale tags, expiring tokens), each one small stage, composed into
 * one ProxyHandler. Everything is driven by elapsed time and a seeded PRNG, so a failing run can be replayed.
 */

export interface ChaosOptions {
  /** Added delay per request, ms. */
  latencyMs?: number;
  /**
   * A manifest or blob written through the proxy (manifest PUT by tag or digest, or the blob upload's
   * completing `PUT ...?digest=`) answers 404 to GET/HEAD by its digest for this long after the write.
   */
  writeLagMs?: number;
  /**
   * Digests whose GET/HEAD (manifests/<digest> or blobs/<digest>, any repository) answer 404 MANIFEST_UNKNOWN
   * or BLOB_UNKNOWN for `lagMs` from the moment the handler is created: sources pushed before the run.
   */
  hidden?: { digests: string[]; lagMs: number };
  /**
   * After a manifest PUT to a tag through the proxy, GET/HEAD of that tag keep serving what it held before
   * (bytes, content-type and Docker-Content-Digest; 404 if it did not exist) for this long.
   */
  tagLagMs?: number;
  /**
   * Each request, with probability `rate`, gets a 429 (with `Retry-After: retryAfterSeconds`, default 0), a
   * 503 or a connection reset, before it reaches the registry. Drawn from a PRNG seeded with `seed`.
   */
  faults?: { rate: number; seed: number; kinds?: Array<FaultKind>; retryAfterSeconds?: number };
  /** Manifest PUTs whose query-less path matches (default: all) answer 400 MANIFEST_BLOB_UNKNOWN `times` times. */
  putBlobUnknown?: { times: number; match?: (path: string) => boolean };
  /**
   * Once `afterMs` has passed since creation, requests carrying a Bearer token the proxy saw before then get
   * 401, as if it had expired. The challenge is the registry's own for that request (fetched by replaying
   * it without credentials) plus `error="invalid_token"`, unless `challenge` gives one.
   */
  expireTokens?: { afterMs: number; challenge?: string };
}

export type FaultKind = '429' | '503' | 'reset';

export interface ChaosStats {
  requests: number;
  faults: Record<FaultKind, number>;
  hidden404: number;
  writeLag404: number;
  tagLagServed: number;
  putBlobUnknown: number;
  expired401: number;
}

export interface Chaos {
  /** Pass to proxy.setHandler. */
  handler: ProxyHandler;
  /** Counters for assertions and printed figures. */
  stats: ChaosStats;
  /**
   * performance.now() at which each hidden digest was first found (a 2xx/3xx answer) once its lag ended, for
   * measuring how quickly a client noticed. Auth challenges and errors don't count as noticing.
   */
  firstSeenAfterHide: Map<string, number>;
  /** performance.now() when created (hidden and token lags count from here). */
  readonly startedAt: number;
}

const ALL_FAULTS: FaultKind[] = ['429', '503', 'reset'];

export function chaos(options: ChaosOptions): Chaos {
  const startedAt = performance.now();
  const elapsed = (): number => performance.now() - startedAt;
  const stats: ChaosStats = {
    requests: 0,
    faults: { '429': 0, '503': 0, reset: 0 },
    hidden404: 0,
    writeLag404: 0,
    tagLagServed: 0,
    putBlobUnknown: 0,
    expired401: 0,
  };
  const firstSeenAfterHide = new Map<string, number>();
  const expiry = options.expireTokens && tokenExpiry(options.expireTokens, elapsed, stats);

  // Order matters: delays and faults hit before anything else, and putBlobUnknown sits innermost so that a
  // rejected PUT never starts a write or tag lag.
  const stages: Stage[] = [];
  if (options.latencyMs !== undefined) stages.push(latency(options.latencyMs));
  if (options.faults) stages.push(faults(options.faults, stats));
  if (expiry) stages.push(expiry.stage);
  if (options.hidden) stages.push(hidden(options.hidden, elapsed, stats, firstSeenAfterHide));
  if (options.writeLagMs !== undefined) stages.push(writeLag(options.writeLagMs, stats));
  if (options.tagLagMs !== undefined) stages.push(tagLag(options.tagLagMs, stats));
  if (options.putBlobUnknown) stages.push(putBlobUnknown(options.putBlobUnknown, stats));

  const run = compose(stages);

  return {
    handler: async (req, forward) => {
      stats.requests++;
      // A token counts as seen on arrival, even if a fault then stops the request.
      expiry?.note(req);
      return run(req, forward);
    },
    stats,
    firstSeenAfterHide,
    startedAt,
  };
}

/** Tommy Ettinger's mulberry32: tiny, fast, and good enough to pick faults reproducibly. Values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- stages, one per fault kind ----

function latency(ms: number): Stage {
  return async (req, next) => {
    await sleep(ms);
    return next(req);
  };
}

function faults(options: NonNullable<ChaosOptions['faults']>, stats: ChaosStats): Stage {
  const kinds = options.kinds ?? ALL_FAULTS;
  if (kinds.length === 0) throw new Error('chaos faults: kinds must not be empty');
  if (!(options.rate >= 0 && options.rate <= 1))
    throw new Error(`chaos faults: rate ${options.rate} not in [0, 1]`);
  const random = mulberry32(options.seed);
  return async (req, next) => {
    // One draw per request, a second only when it faults: the sequence depends on the seed and request order.
    if (random() >= options.rate) return next(req);
    const kind = kinds[Math.floor(random() * kinds.length)] ?? 'reset';
    stats.faults[kind]++;
    if (kind === 'reset') return 'reset';
    if (kind === '429') {
      return errorAnswer(req, 429, [{ code: 'TOOMANYREQUESTS', message: 'too many requests' }], {
        'retry-after': String(options.retryAfterSeconds ?? 0),
      });
    }
    return errorAnswer(req, 503, [{ code: 'UNAVAILABLE', message: 'service unavailable' }]);
  };
}

function tokenExpiry(
  options: NonNullable<ChaosOptions['expireTokens']>,
  elapsed: () => number,
  stats: ChaosStats,
): { note: (req: ProxiedRequest) => void; stage: Stage } {
  const issuedBefore = new Set<string>();
  const expired = (): boolean => elapsed() >= options.afterMs;
  return {
    note(req) {
      const token = bearerToken(req);
      if (token !== undefined && !expired()) issuedBefore.add(token);
    },
    async stage(req, next, forward) {
      const token = bearerToken(req);
      if (token === undefined || !issuedBefore.has(token) || !expired()) return next(req);
      stats.expired401++;
      if (options.challenge !== undefined) {
        return errorAnswer(req, 401, [{ code: 'UNAUTHORIZED', message: 'authentication required' }], {
          'www-authenticate': options.challenge,
        });
      }
      return registryChallenge(req, forward);
    },
  };
}

function hidden(
  options: NonNullable<ChaosOptions['hidden']>,
  elapsed: () => number,
  stats: ChaosStats,
  firstSeen: Map<string, number>,
): Stage {
  const digests = new Set(options.digests);
  return async (req, next) => {
    const target = readTarget(req);
    if (target === undefined || !digests.has(target.reference)) return next(req);
    if (elapsed() < options.lagMs) {
      stats.hidden404++;
      return unknown(req, target);
    }
    const res = await next(req);
    if (res !== 'reset' && res.status < 400 && !firstSeen.has(target.reference)) {
      firstSeen.set(target.reference, performance.now());
    }
    return res;
  };
}

function writeLag(lagMs: number, stats: ChaosStats): Stage {
  // Keyed by repository too: the same digest may already be readable in another repository.
  const writtenAt = new Map<string, number>();
  return async (req, next) => {
    const target = readTarget(req);
    if (target?.isDigest) {
      const at = writtenAt.get(`${target.name}@${target.reference}`);
      if (at !== undefined && performance.now() - at < lagMs) {
        stats.writeLag404++;
        return unknown(req, target);
      }
      return next(req);
    }
    const res = await next(req);
    const written = writtenContent(req, res);
    if (written !== undefined) writtenAt.set(written, performance.now());
    return res;
  };
}

function tagLag(lagMs: number, stats: ChaosStats): Stage {
  const stale = new Map<string, { until: number; previous: ProxyResponse | undefined }>();
  return async (req, next, forward) => {
    const target = contentTarget(req);
    if (target?.kind !== 'manifests' || target.isDigest) return next(req);
    const key = `${target.name}:${target.reference}`;
    if (isRead(req)) {
      const entry = stale.get(key);
      if (entry === undefined || performance.now() >= entry.until) return next(req);
      stats.tagLagServed++;
      return entry.previous ?? unknown(req, target);
    }
    if (req.method !== 'PUT') return next(req);
    // Read before writing: afterwards the registry only knows the new value.
    const previous = await currentTag(req, forward);
    const res = await next(req);
    if (previous !== 'unknown' && res !== 'reset' && res.status === 201) {
      stale.set(key, { until: performance.now() + lagMs, previous });
    }
    return res;
  };
}

function putBlobUnknown(options: NonNullable<ChaosOptions['putBlobUnknown']>, stats: ChaosStats): Stage {
  const matches = options.match ?? (() => true);
  let answered = 0;
  return async (req, next) => {
    const target = contentTarget(req);
    if (req.method !== 'PUT' || target?.kind !== 'manifests' || answered >= options.times) return next(req);
    if (!matches(splitPath(req.path).pathname)) return next(req);
    answered++;
    stats.putBlobUnknown++;
    return errorAnswer(req, 400, [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }]);
  };
}

// ---- helpers ----

/** The manifest or blob a GET/HEAD asks for, if it asks for one. */
function readTarget(req: ProxiedRequest): ContentTarget | undefined {
  return isRead(req) ? contentTarget(req) : undefined;
}

function isRead(req: ProxiedRequest): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

/** `<name>@<digest>` of what a successful write stored, else undefined. */
function writtenContent(req: ProxiedRequest, res: Outcome): string | undefined {
  if (req.method !== 'PUT' || res === 'reset' || res.status !== 201) return undefined;
  const target = contentTarget(req);
  if (target?.kind === 'manifests') {
    const header = res.headers['docker-content-digest'];
    const digest = typeof header === 'string' ? header : sha256Digest(req.body);
    return `${target.name}@${digest}`;
  }
  const { pathname, query } = splitPath(req.path);
  const upload = UPLOAD_SESSION.exec(pathname);
  const digest = query.get('digest');
  return upload?.[1] !== undefined && digest !== null ? `${upload[1]}@${digest}` : undefined;
}

/** What the tag holds now: the GET answer, undefined when absent, 'unknown' when the registry won't say. */
async function currentTag(
  req: ProxiedRequest,
  forward: Forward,
): Promise<ProxyResponse | undefined | 'unknown'> {
  // Clients often send no Accept on a PUT, and the registry hides OCI manifests from a GET without one.
  const accept = [req.headers.accept, MANIFEST_ACCEPT].filter((a) => a !== undefined).join(', ');
  const res = await readManifest(req, forward, 'GET', accept);
  if (res.status === 200) return res;
  return res.status === 404 ? undefined : 'unknown';
}

/**
 * The registry's 401 for this request without credentials, marked the way it marks an expired token. The
 * replay has no body, so even a registry that needed no auth would store nothing.
 */
async function registryChallenge(req: ProxiedRequest, forward: Forward): Promise<ProxyResponse> {
  const res = await withoutCredentials(req, forward);
  const challenge = res.headers['www-authenticate'];
  if (res.status !== 401 || typeof challenge !== 'string') {
    throw new Error(
      `chaos expireTokens: ${req.method} ${req.path} without credentials answered ${res.status}, ` +
        'not a 401 challenge; pass expireTokens.challenge',
    );
  }
  const invalid = challenge.includes('error=') ? challenge : `${challenge},error="invalid_token"`;
  return { status: 401, headers: { ...res.headers, 'www-authenticate': invalid }, body: res.body };
}

/** The registry's 404 for a manifest or blob, with its detail shapes. */
function unknown(req: ProxiedRequest, target: ContentTarget): ProxyResponse {
  if (target.kind === 'blobs') {
    return errorAnswer(req, 404, [
      { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: target.reference },
    ]);
  }
  const detail = target.isDigest
    ? { Name: target.name, Revision: target.reference }
    : { Tag: target.reference };
  return errorAnswer(req, 404, [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail }]);
}

function bearerToken(req: ProxiedRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
