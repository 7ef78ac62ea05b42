import type { Readable } from 'node:stream';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { CredentialSource, Scope } from './auth.js';
import { Authorizer } from './authorizer.js';
import type { Digest } from './digest.js';
import { isDigest } from './digest.js';
import {
  errorCode,
  isLag,
  isTransient,
  MAX_ERROR_BODY,
  parseErrorBody,
  RegistryError,
  redactUrl,
} from './errors.js';
import { registryFailure, storageFailure } from './failures.js';
import { discard, type HttpRequest, type HttpResponse, type Transport } from './http.js';
import { isLoopback } from './loopback.js';
import { bareMediaType, MANIFEST_ACCEPT } from './media-types.js';
import {
  CONNECT_BUDGET_MS,
  ConnectionError,
  explainHttpsOnly,
  explainNetworkError,
  isUnreachable,
} from './network.js';
import { assertSafeForCredentials, followRedirects, isRedirect, sameOrigin } from './origins.js';
import type { ProxyChoice } from './proxy-env.js';
import { canonicalName, type Repository } from './reference.js';
import { BACKOFF, PollPacer, withRetry } from './retry.js';
import { type OwnedTransport, undiciTransport } from './transport.js';
import { StallError } from './upload.js';

/**
 * One registry API call as this project makes it: the right origin (plain HTTP only where meant), credentials
 * from the challenge and only for their origin, redirects followed, bounded in time and size, retried at this one
 * layer, and every failure explained (status and code, unreachable, TLS mismatch, not a registry).
 */

/** Largest manifest read or written, as registries commonly enforce. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
/** A blob copy that moves no byte for this long is cut; one that keeps moving is never cut by a fixed time. */
export const DEFAULT_STALL_MS = 30_000;
/** No request is given less than this, even right at the deadline. */
const MIN_REQUEST_MS = 1_000;
/** How often "cannot connect, retrying" is logged per registry. */
const CONNECT_REPORT_MS = 5_000;
/** Per registry host: enough for 64 sources to be read in one parallel wave. */
const MAX_CONNECTIONS = 128;

export interface CallOptions {
  /** Clock time until which transient failures are retried (default: a minute from the call). */
  readonly deadline?: number;
  /**
   * Also retry read-after-write lag until the deadline: 404 (`MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`), and an index
   * PUT refused with `MANIFEST_BLOB_UNKNOWN` because a child is not served yet.
   */
  readonly untilFound?: boolean;
  /** Told before each retry, e.g. to report what is still missing. */
  readonly onRetry?: (error: unknown) => void;
  /** `false`: one attempt only (the caller retries a larger unit itself). */
  readonly retry?: false;
}

/** What one API call sends: a path under `/v2/<repository>/` or an absolute URL (upload locations). */
export interface CallSpec {
  readonly method: HttpRequest['method'];
  readonly path?: string;
  readonly url?: string;
  /** Access needed on the repository; pull for reads, pull,push for writes by default. */
  readonly actions?: Scope['actions'];
  /** Access needed elsewhere in the same request (the source of a mount). */
  readonly also?: readonly Scope[];
  readonly contentType?: string;
  readonly body?: Uint8Array;
  readonly expect?: readonly number[];
  readonly redirects?: boolean;
  readonly maxBytes?: number;
}

export interface ClientOptions {
  readonly credentials: CredentialSource;
  /**
   * Which login covers a repository ('' or undefined: the registry's one). Repositories of one login share an
   * authorizer and its tokens; another login gets its own.
   */
  readonly loginOf?: (repository: Repository) => string;
  readonly log: Logger;
  readonly clock: Clock;
  /** `auto` uses HTTP for loopback hosts only. */
  readonly plainHttp?: 'auto' | boolean;
  /** The registry endpoints `plainHttp` is meant for (the targets); every other registry gets `auto`. */
  readonly plainHttpEndpoints?: readonly string[];
  /** How long a blob copy may go without moving a byte (default 30 s). */
  readonly stallMs?: number;
  /** Chunk size once a registry refused a whole-blob upload (default 8 MiB, halved on each 413). */
  readonly chunkBytes?: number;
  /** Blob copies in flight into one registry (default COPIES_PER_REGISTRY in client.ts). */
  readonly copiesPerRegistry?: number;
  readonly timeoutMs?: number;
  /** Defaults to the undici client (src/registry/transport.ts), owned by the client and closed in `close()`. */
  readonly transport?: Transport;
  /** For that default: the proxy https requests go through (src/registry/proxy-env.ts). */
  readonly proxy?: ProxyChoice | undefined;
  readonly userAgent?: string;
  readonly random?: () => number;
}

/**
 * The registry API as this project needs it: manifests by tag or digest, blob existence and small blob reads.
 * Every body read is hashed against the digest it should have; retries happen here and only here.
 */
export class RegistryApi {
  readonly transport: Transport;
  private readonly authorizers = new Map<string, Authorizer>();
  private readonly owned: OwnedTransport | undefined;
  /** Per origin: the answer to GET /v2/, asked once, only after a bare 404 or 400 (checkIsRegistry, checkSpeaksHttp). */
  private readonly probes = new Map<string, Promise<HttpResponse>>();
  private readonly connectReports = new Map<string, number>();
  /** Lag polls per registry origin share one budget. */
  private readonly pacers = new Map<string, PollPacer>();

  constructor(readonly options: ClientOptions) {
    this.owned = options.transport
      ? undefined
      : undiciTransport({
          timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          connections: MAX_CONNECTIONS,
          proxy: options.proxy,
        });
    this.transport = options.transport ?? (this.owned as OwnedTransport);
  }

  async close(): Promise<void> {
    await this.owned?.close();
  }

  /** The one retry layer: transient faults always, read-after-write lag too when `untilFound`. */
  retrying<T>(label: string, origin: string, options: CallOptions, fn: () => Promise<T>): Promise<T> {
    const { clock, log } = this.options;
    const started = clock.now();
    let unreachableSince: number | undefined;
    const canRetry = (error: unknown): boolean => {
      if (options.retry === false) return false;
      if (error instanceof StallError) return true;
      if (isUnreachable(error)) {
        // A registry that refuses connections is retried briefly, with progress logged, then named.
        unreachableSince ??= clock.now();
        if (clock.now() - unreachableSince >= CONNECT_BUDGET_MS) return false;
        this.reportUnreachable(origin, error);
        return true;
      }
      unreachableSince = undefined;
      return isTransient(error) || (options.untilFound === true && isLag(error));
    };
    return withRetry(fn, {
      clock,
      deadline: options.deadline ?? clock.now() + BACKOFF.TRANSIENT_BUDGET_MS,
      retryable: canRetry,
      onRetry: (error, attempt, delay) => {
        log.debug(`${label}: attempt ${attempt} failed (${describe(error)}); retrying in ${delay} ms`);
        options.onRetry?.(error);
      },
      pace: (error) => (isLag(error) ? this.pacer(origin).slot() : undefined),
      ...(this.options.random ? { random: this.options.random } : {}),
    }).catch((error: unknown) => {
      throw explainNetworkError(error, origin, clock.now() - started) ?? error;
    });
  }

  pacer(origin: string): PollPacer {
    let pacer = this.pacers.get(origin);
    if (!pacer) {
      pacer = new PollPacer(this.options.clock);
      this.pacers.set(origin, pacer);
    }
    return pacer;
  }

  reportUnreachable(origin: string, error: unknown): void {
    const now = this.options.clock.now();
    const last = this.connectReports.get(origin);
    if (last !== undefined && now - last < CONNECT_REPORT_MS) return;
    this.connectReports.set(origin, now);
    this.options.log.info(
      `cannot connect to ${origin} (${describe(error)}); retrying for up to ${CONNECT_BUDGET_MS / 1000} s`,
    );
  }

  /**
   * A signal that ends a request at the deadline (never sooner than MIN_REQUEST_MS), and at `capMs` at the
   * latest, so a slowly trickling answer cannot outlive wait-timeout.
   */
  deadlineSignal(options: CallOptions, capMs: number): AbortSignal {
    const { clock } = this.options;
    const deadline = options.deadline ?? clock.now() + BACKOFF.TRANSIENT_BUDGET_MS;
    const ms = Math.min(capMs, Math.max(MIN_REQUEST_MS, deadline - clock.now()));
    return AbortSignal.timeout(Math.ceil(ms));
  }

  /** Opens a blob for reading, following storage redirects without the registry's credentials. */
  async openBlob(
    from: Repository,
    digest: Digest,
    options: CallOptions,
  ): Promise<{ body: Readable; size: number | undefined }> {
    const authorizer = this.authorizer(from);
    const scope: Scope = { repository: from.path, actions: ['pull'] };
    const origin = this.baseUrl(from);
    const start = `${origin}/v2/${from.path}/blobs/${digest}`;
    const open = async (url: string, authorization: string | undefined) => {
      if (authorization) assertSafeForCredentials(url);
      const headers = { 'user-agent': this.userAgent(), ...(authorization ? { authorization } : {}) };
      const signal = this.deadlineSignal(options, Number.POSITIVE_INFINITY);
      const response = await this.transport.stream({ method: 'GET', url, headers, signal });
      this.options.log.debug(`GET ${redactUrl(url)} -> ${response.status} (streaming)`);
      return response;
    };
    const authorization = await authorizer.header(scope);
    const { response, url } = await followRedirects(
      start,
      authorization,
      await open(start, authorization),
      open,
      (r) => discard(r.body),
    );
    if (response.status === 200) {
      const length = response.headers['content-length'];
      return { body: response.body, size: length === undefined ? undefined : Number(length) };
    }
    if (isRedirect(response.status)) {
      discard(response.body);
      throw new Error(`${this.where(from, digest)}: too many redirects`);
    }
    const text = await readAtMost(response.body, MAX_ERROR_BODY);
    const failed = { ...response, body: text };
    const request: HttpRequest = { method: 'GET', url: start, headers: {} };
    throw sameOrigin(url, start)
      ? registryFailure(from, request, failed)
      : storageFailure(request, url, failed);
  }

  userAgent(): string {
    return this.options.userAgent ?? 'manifest-merge';
  }

  where(repository: Repository, reference: string): string {
    const separator = isDigest(reference) ? '@' : ':';
    return `${canonicalName(repository)}${separator}${reference}`;
  }

  /** `plain-http` applies to the registries it was given for; every other one is HTTPS unless on loopback. */
  baseUrl(repository: Repository): string {
    const meant = this.options.plainHttpEndpoints?.includes(repository.endpoint) ?? true;
    const plain = meant ? (this.options.plainHttp ?? 'auto') : 'auto';
    const http = plain === 'auto' ? isLoopback(repository.endpoint) : plain;
    return `${http ? 'http' : 'https'}://${repository.endpoint}`;
  }

  authorizer(repository: Repository): Authorizer {
    const key = `${repository.endpoint}\n${this.options.loginOf?.(repository) ?? ''}`;
    let authorizer = this.authorizers.get(key);
    if (!authorizer) {
      // Every repository of this login gets the same credentials: asking for this one's stands for all of them.
      const credentials: CredentialSource = (registry) => this.options.credentials(registry, repository);
      authorizer = new Authorizer(
        repository.registry,
        this.baseUrl(repository),
        credentials,
        this.transport,
        this.options.clock,
        this.options.log,
      );
      this.authorizers.set(key, authorizer);
    }
    return authorizer;
  }

  /** One API call, retried as `retrying` says. */
  call(repository: Repository, spec: CallSpec, options: CallOptions): Promise<HttpResponse> {
    const origin = this.baseUrl(repository);
    const url = spec.url ?? `${origin}/v2/${repository.path}/${spec.path ?? ''}`;
    const headers: Record<string, string> = { 'user-agent': this.userAgent() };
    if (spec.method === 'GET' || spec.method === 'HEAD') headers['accept'] = MANIFEST_ACCEPT;
    if (spec.contentType) headers['content-type'] = spec.contentType;
    const write = spec.method !== 'GET' && spec.method !== 'HEAD';
    const scope: Scope = {
      repository: repository.path,
      actions: spec.actions ?? (write ? ['pull', 'push'] : ['pull']),
    };
    return this.retrying(`${spec.method} ${redactUrl(url)}`, origin, options, () => {
      const request: HttpRequest = {
        method: spec.method,
        url,
        headers,
        ...(spec.body ? { body: spec.body } : {}),
        signal: this.deadlineSignal(options, 2 * (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS)),
      };
      return this.authorized(repository, request, [scope, ...(spec.also ?? [])], spec);
    });
  }

  /** Sends with the cached authorization, answers one challenge, follows redirects, and checks the status. */
  async authorized(
    repository: Repository,
    request: HttpRequest,
    scopes: readonly Scope[],
    spec: CallSpec,
  ): Promise<HttpResponse> {
    const authorizer = this.authorizer(repository);
    const maxBytes = spec.maxBytes ?? MAX_MANIFEST_BYTES;
    let authorization = await authorizer.header(...scopes);
    let response = await this.send(request, authorization, maxBytes);
    if (
      response.status === 401 &&
      (await authorizer.challenged(response.headers['www-authenticate'], authorization))
    ) {
      authorization = await authorizer.header(...scopes);
      response = await this.send(request, authorization, maxBytes);
    }
    let url = request.url;
    if (spec.redirects) {
      const send = (to: string, credentials: string | undefined) =>
        this.send({ ...request, url: to }, credentials, maxBytes);
      ({ response, url } = await followRedirects(url, authorization, response, send, () => {}));
    }
    if ((spec.expect ?? [200]).includes(response.status)) return response;
    if (!sameOrigin(url, request.url)) throw storageFailure(request, url, response);
    if (response.status === 404) await this.checkIsRegistry(repository, response);
    if (response.status === 400) await this.checkSpeaksHttp(repository, request, response);
    throw registryFailure(repository, request, response);
  }

  /**
   * A bare 404 (no distribution error body, no Docker-Distribution-API-Version header) may come from a web
   * server that is not a registry at all; GET /v2/ tells. A registry answers it 200 or 401.
   */
  private async checkIsRegistry(repository: Repository, response: HttpResponse): Promise<void> {
    if (response.headers['docker-distribution-api-version'] !== undefined) return;
    if (parseErrorBody(Buffer.from(response.body).toString('utf8')).length > 0) return;
    const origin = this.baseUrl(repository);
    const probe = await this.probe(origin);
    const type = bareMediaType(probe.headers['content-type']);
    const looksLikeRegistry =
      probe.status === 401 ||
      (probe.status === 200 &&
        (probe.headers['docker-distribution-api-version'] !== undefined ||
          type === 'application/json' ||
          probe.body.length <= 2));
    if (!looksLikeRegistry) {
      throw new ConnectionError(
        `${origin} is not a container registry: GET /v2/ answered ${probe.status}` +
          `${type ? ` (${type.slice(0, 60)})` : ''}, where a registry answers 200 or 401. ` +
          'Check the registry host and port in "image" or the source entry',
      );
    }
  }

  /**
   * A bare 400 to a plain-HTTP request may be an HTTPS server saying so (Go's net/http, so distribution, zot
   * and Harbor's core; nginx in front of one). Its words are in the body, which a HEAD answer lacks: GET /v2/
   * gets them then.
   */
  private async checkSpeaksHttp(
    repository: Repository,
    request: HttpRequest,
    response: HttpResponse,
  ): Promise<void> {
    const origin = this.baseUrl(repository);
    if (!origin.startsWith('http:')) return;
    const text = Buffer.from(response.body).toString('utf8');
    if (parseErrorBody(text).length > 0) return;
    const body =
      request.method === 'HEAD' ? Buffer.from((await this.probe(origin)).body).toString('utf8') : text;
    const error = explainHttpsOnly(origin, body);
    if (error) throw error;
  }

  /** GET /v2/ without credentials, asked once per origin, for the checks above. */
  private probe(origin: string): Promise<HttpResponse> {
    let probe = this.probes.get(origin);
    if (!probe) {
      probe = this.transport.send(
        { method: 'GET', url: `${origin}/v2/`, headers: { 'user-agent': this.userAgent() } },
        MAX_ERROR_BODY,
      );
      this.probes.set(origin, probe);
    }
    return probe;
  }

  async send(
    request: HttpRequest,
    authorization: string | undefined,
    maxBytes: number,
  ): Promise<HttpResponse> {
    const started = this.options.clock.now();
    if (authorization) assertSafeForCredentials(request.url);
    const headers = authorization ? { ...request.headers, authorization } : request.headers;
    const response = await this.transport.send({ ...request, headers }, maxBytes);
    this.options.log.debug(
      `${request.method} ${redactUrl(request.url)} -> ${response.status} (${Math.round(this.options.clock.now() - started)} ms)`,
    );
    return response;
  }
}

async function readAtMost(body: Readable, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= limit) break;
  }
  discard(body);
  return Buffer.concat(chunks).subarray(0, limit);
}

/** A short form for retry and debug lines: status and codes, a socket code, or the message. */
export function describe(error: unknown): string {
  if (error instanceof RegistryError) return `${error.status} ${error.codes.map((c) => c.code).join(',')}`;
  return errorCode(error) ?? errorMessage(error);
}
