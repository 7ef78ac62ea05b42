import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { CredentialSource, Scope } from './auth.js';
import { Authorizer } from './authorizer.js';
import type { Descriptor } from './descriptor.js';
import { type Digest, digestOf, isDigest, verifyDigest } from './digest.js';
import {
  ErrorCode,
  errorCode,
  isLag,
  isTransient,
  MAX_ERROR_BODY,
  parseErrorBody,
  parseRetryAfter,
  RegistryError,
  redactUrl,
} from './errors.js';
import { discard, type HttpRequest, type HttpResponse, type Transport, undiciTransport } from './http.js';
import { isLoopback } from './loopback.js';
import { bareMediaType, isManifestMediaType, isSchema1MediaType, MANIFEST_ACCEPT } from './media-types.js';
import { CONNECT_BUDGET_MS, ConnectionError, explainNetworkError, isUnreachable } from './network.js';
import { canonicalName, type Repository } from './reference.js';
import { BACKOFF, PollPacer, withRetry } from './retry.js';
import { Agent } from './undici.js';
import { DEFAULT_CHUNK_BYTES, putChunked, putWhole, StallError, type UploadContext } from './upload.js';

/** Largest manifest read or written, as registries commonly enforce. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 3;
/** A blob copy that moves no byte for this long is cut; one that keeps moving is never cut by a fixed time. */
export const DEFAULT_STALL_MS = 30_000;
/** No request is given less than this, even right at the deadline. */
const MIN_REQUEST_MS = 1_000;
/** How often "cannot connect, retrying" is logged per registry. */
const CONNECT_REPORT_MS = 5_000;
/** Per registry host: enough for 64 sources to be read in one parallel wave. */
const MAX_CONNECTIONS = 128;

export interface FetchedManifest {
  readonly descriptor: Descriptor;
  /** The exact bytes served; their digest is `descriptor.digest`. */
  readonly bytes: Uint8Array;
  readonly json: Record<string, unknown>;
}

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
interface CallSpec {
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
  readonly timeoutMs?: number;
  /** Defaults to an Agent the client owns and closes in `close()`. */
  readonly dispatcher?: Dispatcher;
  readonly userAgent?: string;
  readonly random?: () => number;
}

export class Schema1Error extends Error {
  constructor(where: string) {
    super(
      `${where} is a Docker schema 1 manifest, which is deprecated and cannot be put in an index: ` +
        'rebuild and push the image with a current Docker/BuildKit (schema 2 or OCI)',
    );
    this.name = 'Schema1Error';
  }
}

/** An upload `Location` or redirect target, and whether the registry's credentials may follow it there. */
function sameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

/** Credentials never travel in clear text except to this machine (SPEC Guarantee 6). */
function assertSafeForCredentials(url: string): void {
  const { protocol, host } = new URL(url);
  if (protocol === 'http:' && !isLoopback(host)) {
    throw new ConnectionError(
      `refusing to send credentials in clear text to http://${host}: use HTTPS for this registry (plain-http ` +
        'is only safe without credentials, or on this machine)',
    );
  }
}

/**
 * The registry API as this project needs it: manifests by tag or digest, blob existence and small blob reads.
 * Every body read is hashed against the digest it should have; retries happen here and only here.
 */
export class RegistryClient {
  private readonly transport: Transport;
  private readonly authorizers = new Map<string, Authorizer>();
  private readonly ownedAgent: Agent | undefined;
  /** Per origin: whether GET /v2/ answers like a registry, asked once, only after a bare 404. */
  private readonly registryChecks = new Map<string, Promise<void>>();
  private readonly connectReports = new Map<string, number>();
  /** Lag polls per registry origin share one budget. */
  private readonly pacers = new Map<string, PollPacer>();
  /** Registry endpoints that refused a whole-blob upload with 413: they get chunks from then on. */
  private readonly chunkedTargets = new Set<string>();

  constructor(private readonly options: ClientOptions) {
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.ownedAgent = options.dispatcher
      ? undefined
      : new Agent({ connections: MAX_CONNECTIONS, connectTimeout: timeout });
    this.transport = undiciTransport(options.dispatcher ?? (this.ownedAgent as Agent), timeout);
  }

  async close(): Promise<void> {
    await this.ownedAgent?.close();
  }

  /** Tells the client which access the run will need, so the first token asks for all of it at once. */
  declare(repository: Repository, actions: Scope['actions']): void {
    this.authorizer(repository).declare({ repository: repository.path, actions });
  }

  async headManifest(
    repository: Repository,
    reference: string,
    options: CallOptions = {},
  ): Promise<Descriptor> {
    let response: HttpResponse;
    try {
      response = await this.call(repository, { method: 'HEAD', path: `manifests/${reference}` }, options);
    } catch (error) {
      // Some registries answer HEAD on manifests with 405: GET says the same, at the cost of the body.
      if (error instanceof RegistryError && error.status === 405) {
        return (await this.getManifest(repository, reference, options)).descriptor;
      }
      throw error;
    }
    const mediaType = bareMediaType(response.headers['content-type']);
    if (isSchema1MediaType(mediaType)) throw new Schema1Error(this.where(repository, reference));
    const digest = response.headers['docker-content-digest'] ?? '';
    const length = response.headers['content-length'];
    if (!isDigest(digest) || length === undefined || !/^\d{1,9}$/.test(length)) {
      // Without the header a HEAD cannot say which digest a tag holds, nor how large it is; GET and hash instead.
      return (await this.getManifest(repository, reference, options)).descriptor;
    }
    if (isDigest(reference) && digest !== reference) {
      throw new Error(
        `${this.where(repository, reference)}: the registry answered for another digest, ${digest}`,
      );
    }
    return { mediaType, digest, size: Number(length) };
  }

  async getManifest(
    repository: Repository,
    reference: string,
    options: CallOptions = {},
  ): Promise<FetchedManifest> {
    const where = this.where(repository, reference);
    const response = await this.call(repository, { method: 'GET', path: `manifests/${reference}` }, options);
    const bytes = response.body;
    const contentType = bareMediaType(response.headers['content-type']);
    if (isDigest(reference)) verifyDigest(bytes, reference, where);
    const digest = isDigest(reference) ? reference : digestOf(bytes);
    const served = response.headers['docker-content-digest'];
    if (!isDigest(reference) && served && served !== digest) {
      throw new Error(
        `${where}: the registry says the manifest is ${JSON.stringify(served.slice(0, 80))}, but its bytes hash to ${digest}`,
      );
    }
    let json: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      json = parsed as Record<string, unknown>;
    } catch {
      throw new Error(`${where}: the manifest is not a JSON object`);
    }
    if (isSchema1MediaType(contentType) || json['schemaVersion'] === 1) throw new Schema1Error(where);
    const mediaType = typeof json['mediaType'] === 'string' ? json['mediaType'] : contentType;
    if (!isManifestMediaType(mediaType)) {
      throw new Error(`${where}: unsupported manifest media type ${JSON.stringify(mediaType.slice(0, 100))}`);
    }
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, json };
  }

  /** PUTs exact bytes; requires success and a `Docker-Content-Digest` (when sent) equal to their hash. */
  async putManifest(
    repository: Repository,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options: CallOptions = {},
  ): Promise<Digest> {
    const where = this.where(repository, reference);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new Error(`${where}: manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest)
      throw new Error(`${where}: the bytes to write hash to ${digest}`);
    // 201 is the spec's answer; some registries answer 200 or 202 for a stored manifest.
    const response = await this.call(
      repository,
      {
        method: 'PUT',
        path: `manifests/${reference}`,
        contentType: mediaType,
        body: bytes,
        expect: [200, 201, 202],
      },
      options,
    );
    const answered = response.headers['docker-content-digest'];
    if (answered && answered !== digest) {
      throw new Error(
        `${where}: the registry stored ${JSON.stringify(answered.slice(0, 80))}, but we sent ${digest}`,
      );
    }
    return digest;
  }

  async headBlob(
    repository: Repository,
    digest: Digest,
    options: CallOptions = {},
  ): Promise<{ size: number }> {
    const response = await this.call(
      repository,
      { method: 'HEAD', path: `blobs/${digest}`, redirects: true },
      options,
    );
    return { size: Number(response.headers['content-length'] ?? 0) };
  }

  /** Reads a small blob (an image config) whole, verified against its digest. */
  async getBlob(
    repository: Repository,
    digest: Digest,
    maxBytes: number,
    options: CallOptions = {},
  ): Promise<Uint8Array> {
    const response = await this.call(
      repository,
      { method: 'GET', path: `blobs/${digest}`, redirects: true, maxBytes },
      options,
    );
    verifyDigest(response.body, digest, this.where(repository, digest));
    return response.body;
  }

  /**
   * Asks the registry to mount a blob from another repository. Mounted (201): done. An upload opened instead
   * (202: GHCR across organisations, ECR without blob mounting, Quay without access to `from`): its Location is
   * handed back to be finished by `copyBlob` — cancelling it would need the `delete` action, which Quay never
   * grants. Any other refusal (Harbor and GitLab answer 401 or 404 for a source they will not mount): not
   * mounted, upload without mount.
   */
  async mountBlob(
    target: Repository,
    digest: Digest,
    from: Repository,
    options: CallOptions = {},
  ): Promise<{ readonly mounted: true } | { readonly mounted: false; readonly upload?: Upload }> {
    const query = new URLSearchParams({ mount: digest, from: from.path });
    let response: HttpResponse;
    try {
      response = await this.call(
        target,
        {
          method: 'POST',
          path: `blobs/uploads/?${query}`,
          actions: ['pull', 'push'],
          also: [{ repository: from.path, actions: ['pull'] }],
          expect: [201, 202],
        },
        options,
      );
    } catch (error) {
      if (error instanceof RegistryError && error.status >= 400 && error.status < 500) {
        this.options.log.debug(`mount of ${digest} refused (${describe(error)}); uploading it instead`);
        return { mounted: false };
      }
      throw error;
    }
    if (response.status === 201) return { mounted: true };
    const upload = uploadOf(response);
    return upload ? { mounted: false, upload } : { mounted: false };
  }

  /**
   * Copies a blob between repositories (on one registry or two) without holding it in memory: the source GET
   * streams straight into the target's upload PUT, which the registry checks against the digest. Retried whole.
   * Bounded by the deadline and by progress: a copy that moves no byte for `stallMs` is cut, one that keeps
   * moving is not, however large. `upload` is an upload the registry already opened (a mount answered 202).
   */
  async copyBlob(
    from: Repository,
    target: Repository,
    digest: Digest,
    options: CallOptions = {},
    upload?: Upload,
  ): Promise<void> {
    let opened = upload;
    await this.retrying(`copying ${digest}`, this.baseUrl(target), options, async () => {
      const next = opened ?? (await this.openUpload(target, options));
      opened = undefined;
      if (this.chunkedTargets.has(target.endpoint))
        return this.copyChunked(from, target, digest, next, options);
      const context = this.uploadContext(target, options);
      const whole = new URL(next.location, this.baseUrl(target));
      whole.searchParams.set('digest', digest);
      const source = await this.copySource(from, target, digest, options);
      const response = await putWhole(context, whole.toString(), source, this.stallMs());
      if (isStored(response)) return;
      if (response.status !== 413) {
        throw context.failure({ method: 'PUT', url: whole.toString(), headers: {} }, response);
      }
      // ACR refuses large single-request uploads: from now on this registry gets chunks.
      this.chunkedTargets.add(target.endpoint);
      this.options.log.info(
        `${target.registry} refused ${source.what} in one request (413); uploading in chunks`,
      );
      return this.copyChunked(from, target, digest, await this.openUpload(target, options), options);
    });
  }

  private async copyChunked(
    from: Repository,
    target: Repository,
    digest: Digest,
    upload: Upload,
    options: CallOptions,
  ): Promise<void> {
    const context = this.uploadContext(target, options);
    const location = new URL(upload.location, this.baseUrl(target)).toString();
    const source = await this.copySource(from, target, digest, options);
    const response = await putChunked(context, location, digest, source, {
      stallMs: this.stallMs(),
      chunkBytes: this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      ...(upload.minChunkBytes ? { minChunkBytes: upload.minChunkBytes } : {}),
    });
    if (!isStored(response)) throw context.failure({ method: 'PUT', url: location, headers: {} }, response);
  }

  private async copySource(from: Repository, target: Repository, digest: Digest, options: CallOptions) {
    const opened = await this.openBlob(from, digest, options);
    return { ...opened, what: `${this.where(from, digest)} -> ${canonicalName(target)}` };
  }

  private stallMs(): number {
    return this.options.stallMs ?? DEFAULT_STALL_MS;
  }

  private uploadContext(target: Repository, options: CallOptions): UploadContext {
    const origin = this.baseUrl(target);
    return {
      transport: this.transport,
      log: this.options.log,
      userAgent: this.userAgent(),
      // The upload Location may name another host (a storage front end): the registry's token stays home.
      authorization: async (url) => {
        if (!sameOrigin(url, origin)) return undefined;
        const header = await this.authorizer(target).header({
          repository: target.path,
          actions: ['pull', 'push'],
        });
        if (header) assertSafeForCredentials(url);
        return header;
      },
      signal: () => this.deadlineSignal(options, Number.POSITIVE_INFINITY),
      failure: (request, response) => this.failure(target, request, response),
    };
  }

  private async openUpload(target: Repository, options: CallOptions): Promise<Upload> {
    const response = await this.call(
      target,
      { method: 'POST', path: 'blobs/uploads/', actions: ['pull', 'push'], expect: [202] },
      { ...options, retry: false },
    );
    const upload = uploadOf(response);
    if (!upload)
      throw new Error(`${canonicalName(target)}: the registry opened an upload without a Location`);
    return upload;
  }

  /** The one retry layer: transient faults always, read-after-write lag too when `untilFound`. */
  private retrying<T>(label: string, origin: string, options: CallOptions, fn: () => Promise<T>): Promise<T> {
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

  private pacer(origin: string): PollPacer {
    let pacer = this.pacers.get(origin);
    if (!pacer) {
      pacer = new PollPacer(this.options.clock);
      this.pacers.set(origin, pacer);
    }
    return pacer;
  }

  private reportUnreachable(origin: string, error: unknown): void {
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
  private deadlineSignal(options: CallOptions, capMs: number): AbortSignal {
    const { clock } = this.options;
    const deadline = options.deadline ?? clock.now() + BACKOFF.TRANSIENT_BUDGET_MS;
    const ms = Math.min(capMs, Math.max(MIN_REQUEST_MS, deadline - clock.now()));
    return AbortSignal.timeout(Math.ceil(ms));
  }

  /** Opens a blob for reading, following storage redirects without the registry's credentials. */
  private async openBlob(
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
      ? this.failure(from, request, failed)
      : this.storageFailure(request, url, failed);
  }

  private userAgent(): string {
    return this.options.userAgent ?? 'manifest-merge';
  }

  private where(repository: Repository, reference: string): string {
    const separator = isDigest(reference) ? '@' : ':';
    return `${canonicalName(repository)}${separator}${reference}`;
  }

  /** `plain-http` applies to the registries it was given for; every other one is HTTPS unless on loopback. */
  private baseUrl(repository: Repository): string {
    const meant = this.options.plainHttpEndpoints?.includes(repository.endpoint) ?? true;
    const plain = meant ? (this.options.plainHttp ?? 'auto') : 'auto';
    const http = plain === 'auto' ? isLoopback(repository.endpoint) : plain;
    return `${http ? 'http' : 'https'}://${repository.endpoint}`;
  }

  private authorizer(repository: Repository): Authorizer {
    let authorizer = this.authorizers.get(repository.endpoint);
    if (!authorizer) {
      authorizer = new Authorizer(
        repository.registry,
        this.baseUrl(repository),
        this.options.credentials,
        this.transport,
        this.options.clock,
        this.options.log,
      );
      this.authorizers.set(repository.endpoint, authorizer);
    }
    return authorizer;
  }

  /** One API call, retried as `retrying` says. */
  private call(repository: Repository, spec: CallSpec, options: CallOptions): Promise<HttpResponse> {
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
  private async authorized(
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
    if (!sameOrigin(url, request.url)) throw this.storageFailure(request, url, response);
    if (response.status === 404) await this.checkIsRegistry(repository, response);
    throw this.failure(repository, request, response);
  }

  /** The storage a registry redirected to refused: the registry's credentials and hints are beside the point. */
  private storageFailure(request: HttpRequest, url: string, response: HttpResponse): RegistryError {
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
   * A bare 404 (no distribution error body, no Docker-Distribution-API-Version header) may come from a web
   * server that is not a registry at all; GET /v2/ tells, once per origin. A registry answers it 200 or 401.
   */
  private async checkIsRegistry(repository: Repository, response: HttpResponse): Promise<void> {
    if (response.headers['docker-distribution-api-version'] !== undefined) return;
    if (parseErrorBody(Buffer.from(response.body).toString('utf8')).length > 0) return;
    const origin = this.baseUrl(repository);
    let check = this.registryChecks.get(origin);
    if (!check) {
      check = (async () => {
        const probe = await this.transport.send(
          { method: 'GET', url: `${origin}/v2/`, headers: { 'user-agent': this.userAgent() } },
          MAX_ERROR_BODY,
        );
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
      })();
      this.registryChecks.set(origin, check);
    }
    await check;
  }

  private async send(
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

  private failure(repository: Repository, request: HttpRequest, response: HttpResponse): RegistryError {
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

/** A blob upload's closing answer: 201 in the spec, 200 or 204 from some registries. */
function isStored(response: HttpResponse): boolean {
  return response.status === 200 || response.status === 201 || response.status === 204;
}

/** An upload the registry opened, and the smallest chunk it takes. */
export interface Upload {
  readonly location: string;
  readonly minChunkBytes?: number;
}

/** The upload a 202 opened (a POST, or a mount refused that way); the spec's OCI-Chunk-Min-Length with it. */
function uploadOf(response: HttpResponse): Upload | undefined {
  const location = response.headers['location'];
  if (!location) return undefined;
  const min = Number(response.headers['oci-chunk-min-length'] ?? 0);
  return { location, ...(Number.isSafeInteger(min) && min > 0 ? { minChunkBytes: min } : {}) };
}

/**
 * Follows redirects (at most MAX_REDIRECTS) from a first answer. Credentials go only to the origin they are for:
 * storage redirects (S3, CDNs) never see them, nor does https->http on one host.
 */
async function followRedirects<R extends { status: number; headers: Readonly<Record<string, string>> }>(
  start: string,
  authorization: string | undefined,
  first: R,
  send: (url: string, authorization: string | undefined) => Promise<R>,
  drop: (response: R) => void,
): Promise<{ response: R; url: string }> {
  let response = first;
  let url = start;
  let credentials = authorization;
  for (let hop = 0; hop < MAX_REDIRECTS && isRedirect(response.status); hop++) {
    const location = response.headers['location'];
    if (!location) break;
    const next = new URL(location, url).toString();
    if (!sameOrigin(next, url)) credentials = undefined;
    drop(response);
    url = next;
    response = await send(url, credentials);
  }
  return { response, url };
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
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
function describe(error: unknown): string {
  if (error instanceof RegistryError) return `${error.status} ${error.codes.map((c) => c.code).join(',')}`;
  return errorCode(error) ?? errorMessage(error);
}
