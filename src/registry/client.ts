import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { CredentialSource, Scope } from './auth.js';
import { Authorizer } from './authorizer.js';
import { type Digest, digestOf, isDigest, verifyDigest } from './digest.js';
import { MAX_ERROR_BODY, parseErrorBody, parseRetryAfter, RegistryError, redactUrl } from './errors.js';
import { discard, type HttpRequest, type HttpResponse, type Transport, undiciTransport } from './http.js';
import { bareMediaType, isManifestMediaType, isSchema1MediaType, MANIFEST_ACCEPT } from './media-types.js';
import { canonicalName, type Repository } from './reference.js';
import { BACKOFF, isTransient, withRetry } from './retry.js';
import { Agent } from './undici.js';

/** Largest manifest read or written, as registries commonly enforce. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 3;
/** Per registry host: enough for 64 sources to be read in one parallel wave. */
const MAX_CONNECTIONS = 128;

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

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

/** True for `localhost`, 127.0.0.0/8 and `[::1]`, with or without a port. */
export function isLoopback(endpoint: string): boolean {
  const host = endpoint.startsWith('[')
    ? endpoint.slice(0, endpoint.indexOf(']') + 1)
    : endpoint.split(':')[0];
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host ?? '');
}

/**
 * The registry API as this project needs it: manifests by tag or digest, blob existence and small blob reads.
 * Every body read is hashed against the digest it should have; retries happen here and only here.
 */
export class RegistryClient {
  private readonly transport: Transport;
  private readonly authorizers = new Map<string, Authorizer>();
  private readonly ownedAgent: Agent | undefined;

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
    const response = await this.call(repository, { method: 'HEAD', path: `manifests/${reference}` }, options);
    const mediaType = bareMediaType(response.headers['content-type']);
    if (isSchema1MediaType(mediaType)) throw new Schema1Error(this.where(repository, reference));
    const digest = response.headers['docker-content-digest'] ?? '';
    if (!isDigest(digest)) {
      // Without the header a HEAD cannot say which digest a tag holds; GET and hash instead.
      return (await this.getManifest(repository, reference, options)).descriptor;
    }
    if (isDigest(reference) && digest !== reference) {
      throw new Error(
        `${this.where(repository, reference)}: the registry answered for another digest, ${digest}`,
      );
    }
    return { mediaType, digest, size: Number(response.headers['content-length'] ?? 0) };
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
        `${where}: the registry says the manifest is ${served}, but its bytes hash to ${digest}`,
      );
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new Error(`${where}: the manifest is not valid JSON`);
    }
    if (isSchema1MediaType(contentType) || json['schemaVersion'] === 1) throw new Schema1Error(where);
    const mediaType = typeof json['mediaType'] === 'string' ? json['mediaType'] : contentType;
    if (!isManifestMediaType(mediaType)) {
      throw new Error(`${where}: unsupported manifest media type "${mediaType}"`);
    }
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, json };
  }

  /** PUTs exact bytes; requires 201 and a `Docker-Content-Digest` (when sent) equal to their hash. */
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
    const response = await this.call(
      repository,
      { method: 'PUT', path: `manifests/${reference}`, contentType: mediaType, body: bytes, expect: [201] },
      options,
    );
    const answered = response.headers['docker-content-digest'];
    if (answered && answered !== digest) {
      throw new Error(`${where}: the registry stored ${answered}, but we sent ${digest}`);
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
   * Asks the registry to mount a blob from another repository on it. True when mounted (201); false when the
   * registry opened an upload instead (202, e.g. no pull access on `from`), which is cancelled here.
   */
  async mountBlob(
    target: Repository,
    digest: Digest,
    from: Repository,
    options: CallOptions = {},
  ): Promise<boolean> {
    const query = new URLSearchParams({ mount: digest, from: from.path });
    const response = await this.call(
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
    if (response.status === 201) return true;
    const location = response.headers['location'];
    if (location) {
      const url = new URL(location, this.baseUrl(target)).toString();
      await this.call(
        target,
        { method: 'DELETE', url, actions: ['pull', 'push'], expect: [204, 404] },
        options,
      ).catch((error: unknown) =>
        this.options.log.debug(`cancelling an unused upload failed: ${describe(error)}`),
      );
    }
    return false;
  }

  /**
   * Copies a blob between repositories (on one registry or two) without holding it in memory: the source GET
   * streams straight into the target's upload PUT, which the registry checks against the digest. Retried whole.
   */
  async copyBlob(
    from: Repository,
    target: Repository,
    digest: Digest,
    options: CallOptions = {},
  ): Promise<void> {
    const { clock, log } = this.options;
    await this.retrying(`copying ${digest}`, options, async () => {
      const opened = await this.call(
        target,
        { method: 'POST', path: 'blobs/uploads/', actions: ['pull', 'push'], expect: [202] },
        { ...options, deadline: clock.now() },
      );
      const location = opened.headers['location'];
      if (!location)
        throw new Error(`${canonicalName(target)}: the registry opened an upload without a Location`);
      const upload = new URL(location, this.baseUrl(target));
      upload.searchParams.set('digest', digest);
      const source = await this.openBlob(from, digest);
      const authorization = await this.authorizer(target).header({
        repository: target.path,
        actions: ['pull', 'push'],
      });
      const headers: Record<string, string> = {
        'user-agent': this.userAgent(),
        'content-type': 'application/octet-stream',
        ...(source.size !== undefined ? { 'content-length': String(source.size) } : {}),
        ...(authorization ? { authorization } : {}),
      };
      const request: HttpRequest = { method: 'PUT', url: upload.toString(), headers, body: source.body };
      let response: HttpResponse;
      try {
        response = await this.transport.send(request, MAX_ERROR_BODY);
      } finally {
        // A PUT refused before it read the whole blob leaves the source open: close it.
        if (!source.body.readableEnded) discard(source.body);
      }
      log.debug(`PUT ${redactUrl(request.url)} -> ${response.status} (blob ${digest})`);
      if (response.status !== 201) throw this.failure(target, request, response);
    });
  }

  /** The one retry layer: transient faults always, read-after-write lag too when `untilFound`. */
  private retrying<T>(label: string, options: CallOptions, fn: () => Promise<T>): Promise<T> {
    const { clock, log } = this.options;
    return withRetry(fn, {
      clock,
      deadline: options.deadline ?? clock.now() + BACKOFF.TRANSIENT_BUDGET_MS,
      retryable: (error) => isTransient(error) || (options.untilFound === true && isLag(error)),
      onRetry: (error, attempt, delay) => {
        log.debug(`${label}: attempt ${attempt} failed (${describe(error)}); retrying in ${delay} ms`);
        options.onRetry?.(error);
      },
      ...(this.options.random ? { random: this.options.random } : {}),
    });
  }

  /** Opens a blob for reading, following storage redirects without the registry's credentials. */
  private async openBlob(
    from: Repository,
    digest: Digest,
  ): Promise<{ body: Readable; size: number | undefined }> {
    const authorizer = this.authorizer(from);
    const scope: Scope = { repository: from.path, actions: ['pull'] };
    let url = `${this.baseUrl(from)}/v2/${from.path}/blobs/${digest}`;
    let authorization = await authorizer.header(scope);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = {
        'user-agent': this.userAgent(),
        ...(authorization ? { authorization } : {}),
      };
      const response = await this.transport.stream({ method: 'GET', url, headers });
      this.options.log.debug(`GET ${redactUrl(url)} -> ${response.status} (streaming)`);
      if (response.status === 200) {
        const length = response.headers['content-length'];
        return { body: response.body, size: length === undefined ? undefined : Number(length) };
      }
      const location = response.headers['location'];
      if (isRedirect(response.status) && location) {
        discard(response.body);
        const next = new URL(location, url);
        if (next.host !== new URL(url).host) authorization = undefined;
        url = next.toString();
        continue;
      }
      const text = await readAtMost(response.body, MAX_ERROR_BODY);
      throw this.failure(from, { method: 'GET', url, headers }, { ...response, body: text });
    }
    throw new Error(`${this.where(from, digest)}: too many redirects`);
  }

  private userAgent(): string {
    return this.options.userAgent ?? 'manifest-merge';
  }

  private where(repository: Repository, reference: string): string {
    const separator = isDigest(reference) ? '@' : ':';
    return `${canonicalName(repository)}${separator}${reference}`;
  }

  private baseUrl(repository: Repository): string {
    const plain = this.options.plainHttp ?? 'auto';
    const http = plain === 'auto' ? isLoopback(repository.endpoint) : plain;
    return `${http ? 'http' : 'https'}://${repository.endpoint}`;
  }

  private authorizer(repository: Repository): Authorizer {
    let authorizer = this.authorizers.get(repository.endpoint);
    if (!authorizer) {
      authorizer = new Authorizer(
        repository.registry,
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
    const url = spec.url ?? `${this.baseUrl(repository)}/v2/${repository.path}/${spec.path ?? ''}`;
    const headers: Record<string, string> = { 'user-agent': this.userAgent() };
    if (spec.method === 'GET' || spec.method === 'HEAD') headers['accept'] = MANIFEST_ACCEPT;
    if (spec.contentType) headers['content-type'] = spec.contentType;
    const request: HttpRequest = {
      method: spec.method,
      url,
      headers,
      ...(spec.body ? { body: spec.body } : {}),
    };
    const write = spec.method !== 'GET' && spec.method !== 'HEAD';
    const scope: Scope = {
      repository: repository.path,
      actions: spec.actions ?? (write ? ['pull', 'push'] : ['pull']),
    };
    return this.retrying(`${spec.method} ${redactUrl(url)}`, options, () =>
      this.authorized(repository, request, [scope, ...(spec.also ?? [])], spec),
    );
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
    for (let hop = 0; spec.redirects && isRedirect(response.status) && hop < MAX_REDIRECTS; hop++) {
      const location = new URL(response.headers['location'] ?? '', request.url).toString();
      // Storage redirects (S3, CDNs) must never see the registry's credentials.
      const sameHost = new URL(location).host === new URL(request.url).host;
      response = await this.send(
        { ...request, url: location },
        sameHost ? authorization : undefined,
        maxBytes,
      );
    }
    if (!(spec.expect ?? [200]).includes(response.status)) throw this.failure(repository, request, response);
    return response;
  }

  private async send(
    request: HttpRequest,
    authorization: string | undefined,
    maxBytes: number,
  ): Promise<HttpResponse> {
    const started = this.options.clock.now();
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
      const code = request.url.includes('/manifests/') ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN';
      codes = [
        { code, message: code === 'MANIFEST_UNKNOWN' ? 'manifest unknown' : 'blob unknown to registry' },
      ];
    }
    let hint: string | undefined;
    if (response.status === 401) {
      hint = `authentication failed for ${repository.registry}: check the username and password (or the docker login) for ${repository.registry}`;
    } else if (response.status === 403) {
      hint = `access denied to ${canonicalName(repository)}: the credentials need ${request.method === 'GET' || request.method === 'HEAD' ? 'pull' : 'push'} access`;
    }
    return new RegistryError({
      method: request.method,
      url: request.url,
      status: response.status,
      codes,
      retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
      ...(hint ? { hint } : {}),
    });
  }
}

/** Answers that mean "not visible yet" right after another runner pushed. */
export function isLag(error: unknown): boolean {
  return error instanceof RegistryError && (error.status === 404 || error.hasCode('MANIFEST_BLOB_UNKNOWN'));
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

function describe(error: unknown): string {
  if (error instanceof RegistryError) return `${error.status} ${error.codes.map((c) => c.code).join(',')}`;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}
