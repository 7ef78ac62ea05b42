import {
  type CallOptions,
  type ClientOptions,
  DEFAULT_STALL_MS,
  describe,
  MAX_MANIFEST_BYTES,
  RegistryApi,
} from './api.js';
import type { Scope } from './auth.js';
import type { Descriptor } from './descriptor.js';
import { type Digest, digestOf, isDigest, verifyDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { registryFailure } from './failures.js';
import type { HttpResponse } from './http.js';
import { bareMediaType, isManifestMediaType, isSchema1MediaType, OCI_INDEX } from './media-types.js';
import { assertSafeForCredentials, sameOrigin } from './origins.js';
import { canonicalName, type Repository } from './reference.js';
import { Slots } from './slots.js';
import { DEFAULT_CHUNK_BYTES, putChunked, putWhole, type UploadContext } from './upload.js';

/**
 * Blob copies in flight into one registry. Each streams through small buffers, so this bounds memory (and the
 * connections copies open) whatever the number of layers; 6 is skopeo's default too (ADR 0011).
 */
export const COPIES_PER_REGISTRY = 6;

export interface FetchedManifest {
  readonly descriptor: Descriptor;
  /** The exact bytes served; their digest is `descriptor.digest`. */
  readonly bytes: Uint8Array;
  readonly json: Record<string, unknown>;
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

/**
 * The registry API as this project needs it: manifests by tag or digest, blob existence and small blob reads,
 * mounts and streamed copies. Every body read is hashed against the digest it should have; requests, credentials
 * and retries go through one RegistryApi.
 */
export class RegistryClient {
  private readonly api: RegistryApi;
  /** Registry endpoints that refused a whole-blob upload with 413: they get chunks from then on. */
  private readonly chunkedTargets = new Set<string>();
  /** Per target registry endpoint: the blob copies in flight into it. */
  readonly copySlots = new Map<string, Slots>();

  constructor(options: ClientOptions) {
    this.api = new RegistryApi(options);
  }

  close(): Promise<void> {
    return this.api.close();
  }

  /** Tells the client which access the run will need, so the first token asks for all of it at once. */
  declare(repository: Repository, actions: Scope['actions']): void {
    this.api.authorizer(repository).declare({ repository: repository.path, actions });
  }

  async headManifest(
    repository: Repository,
    reference: string,
    options: CallOptions = {},
  ): Promise<Descriptor> {
    let response: HttpResponse;
    try {
      response = await this.api.call(repository, { method: 'HEAD', path: `manifests/${reference}` }, options);
    } catch (error) {
      // Some registries answer HEAD on manifests with 405: GET says the same, at the cost of the body.
      if (error instanceof RegistryError && error.status === 405) {
        return (await this.getManifest(repository, reference, options)).descriptor;
      }
      throw error;
    }
    const mediaType = bareMediaType(response.headers['content-type']);
    if (isSchema1MediaType(mediaType)) throw new Schema1Error(this.api.where(repository, reference));
    const digest = response.headers['docker-content-digest'] ?? '';
    const length = response.headers['content-length'];
    if (!isDigest(digest) || length === undefined || !/^\d{1,9}$/.test(length)) {
      // Without the header a HEAD cannot say which digest a tag holds, nor how large it is; GET and hash instead.
      return (await this.getManifest(repository, reference, options)).descriptor;
    }
    if (isDigest(reference) && digest !== reference) {
      throw new Error(
        `${this.api.where(repository, reference)}: the registry answered for another digest, ${digest}`,
      );
    }
    return { mediaType, digest, size: Number(length) };
  }

  async getManifest(
    repository: Repository,
    reference: string,
    options: CallOptions = {},
  ): Promise<FetchedManifest> {
    const where = this.api.where(repository, reference);
    const response = await this.api.call(
      repository,
      { method: 'GET', path: `manifests/${reference}` },
      options,
    );
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

  /**
   * PUTs exact bytes; requires success and a `Docker-Content-Digest` (when sent) equal to their hash. `subject` is
   * the registry's `OCI-Subject` answer: a registry with the referrers API indexed the manifest under it.
   */
  async putManifest(
    repository: Repository,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options: CallOptions = {},
  ): Promise<StoredManifest> {
    const where = this.api.where(repository, reference);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new Error(`${where}: manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest)
      throw new Error(`${where}: the bytes to write hash to ${digest}`);
    // 201 is the spec's answer; some registries answer 200 or 202 for a stored manifest.
    const response = await this.api.call(
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
    const subject = response.headers['oci-subject'] ?? '';
    return { digest, ...(isDigest(subject) ? { subject } : {}) };
  }

  /**
   * The pages of the referrers API's answer for `digest` (OCI distribution 1.1), following `Link: rel="next"` on
   * the registry's own origin, at most MAX_REFERRER_PAGES and MAX_REFERRER_BYTES in all (each page asked for with
   * what is left); undefined when the registry has no referrers API: 404, or 400, 405 or 501 from registries
   * that do not route the path. Every page must be an OCI index; parsing is the caller's
   * (src/registry/referrers.ts).
   */
  async getReferrers(
    repository: Repository,
    digest: Digest,
    options: CallOptions = {},
  ): Promise<Uint8Array[] | undefined> {
    const origin = this.api.baseUrl(repository);
    const where = this.api.where(repository, digest);
    const pages: Uint8Array[] = [];
    let total = 0;
    let url = `${origin}/v2/${repository.path}/referrers/${digest}`;
    for (;;) {
      let response: HttpResponse;
      try {
        const maxBytes = MAX_REFERRER_BYTES - total;
        response = await this.api.call(repository, { method: 'GET', url, maxBytes }, options);
      } catch (error) {
        if (pages.length === 0 && error instanceof RegistryError && NO_REFERRERS_API.includes(error.status)) {
          this.api.options.log.debug(`${where}: referrers API answered ${error.status}; taken as no API`);
          return undefined;
        }
        throw error;
      }
      const type = bareMediaType(response.headers['content-type']);
      // Some registries label the index as plain JSON; what it holds is checked where it is parsed.
      if (type !== OCI_INDEX && type !== 'application/json') {
        throw new Error(
          `${where}: the referrers API answered ${JSON.stringify(type.slice(0, 100))}, not an OCI index; refusing it`,
        );
      }
      pages.push(response.body);
      total += response.body.length;
      const next = nextLink(response.headers['link'], url);
      if (next === undefined) return pages;
      if (!sameOrigin(next, origin) || pages.length >= MAX_REFERRER_PAGES) {
        throw new Error(
          `${where}: the referrers list ${sameOrigin(next, origin) ? `goes on past ${MAX_REFERRER_PAGES} pages` : 'continues on another origin'}; refusing to follow it`,
        );
      }
      url = next;
    }
  }

  async headBlob(
    repository: Repository,
    digest: Digest,
    options: CallOptions = {},
  ): Promise<{ size: number }> {
    const response = await this.api.call(
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
    const response = await this.api.call(
      repository,
      { method: 'GET', path: `blobs/${digest}`, redirects: true, maxBytes },
      options,
    );
    verifyDigest(response.body, digest, this.api.where(repository, digest));
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
      response = await this.api.call(
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
        this.api.options.log.debug(`mount of ${digest} refused (${describe(error)}); uploading it instead`);
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
    let slots = this.copySlots.get(target.endpoint);
    if (!slots) {
      slots = new Slots(this.api.options.copiesPerRegistry ?? COPIES_PER_REGISTRY);
      this.copySlots.set(target.endpoint, slots);
    }
    await slots.run(() => this.copyBlobNow(from, target, digest, options, upload));
  }

  private async copyBlobNow(
    from: Repository,
    target: Repository,
    digest: Digest,
    options: CallOptions,
    upload: Upload | undefined,
  ): Promise<void> {
    let opened = upload;
    await this.api.retrying(`copying ${digest}`, this.api.baseUrl(target), options, async () => {
      const next = opened ?? (await this.openUpload(target, options));
      opened = undefined;
      if (this.chunkedTargets.has(target.endpoint))
        return this.copyChunked(from, target, digest, next, options);
      const context = this.uploadContext(target, options);
      const whole = new URL(next.location, this.api.baseUrl(target));
      whole.searchParams.set('digest', digest);
      const source = await this.copySource(from, target, digest, options);
      const response = await putWhole(context, whole.toString(), source, this.stallMs());
      if (isStored(response)) return;
      if (response.status !== 413) {
        throw context.failure({ method: 'PUT', url: whole.toString(), headers: {} }, response);
      }
      // ACR refuses large single-request uploads: from now on this registry gets chunks.
      this.chunkedTargets.add(target.endpoint);
      this.api.options.log.info(
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
    const location = new URL(upload.location, this.api.baseUrl(target)).toString();
    const source = await this.copySource(from, target, digest, options);
    const response = await putChunked(context, location, digest, source, {
      stallMs: this.stallMs(),
      chunkBytes: this.api.options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      ...(upload.minChunkBytes ? { minChunkBytes: upload.minChunkBytes } : {}),
    });
    if (!isStored(response)) throw context.failure({ method: 'PUT', url: location, headers: {} }, response);
  }

  private async copySource(from: Repository, target: Repository, digest: Digest, options: CallOptions) {
    const opened = await this.api.openBlob(from, digest, options);
    return { ...opened, what: `${this.api.where(from, digest)} -> ${canonicalName(target)}` };
  }

  private stallMs(): number {
    return this.api.options.stallMs ?? DEFAULT_STALL_MS;
  }

  private uploadContext(target: Repository, options: CallOptions): UploadContext {
    const origin = this.api.baseUrl(target);
    return {
      transport: this.api.transport,
      log: this.api.options.log,
      userAgent: this.api.userAgent(),
      // The upload Location may name another host (a storage front end): the registry's token stays home.
      authorization: async (url) => {
        if (!sameOrigin(url, origin)) return undefined;
        const header = await this.api.authorizer(target).header({
          repository: target.path,
          actions: ['pull', 'push'],
        });
        if (header) assertSafeForCredentials(url);
        return header;
      },
      signal: () => this.api.deadlineSignal(options, Number.POSITIVE_INFINITY),
      failure: (request, response) => registryFailure(target, request, response),
    };
  }
  private async openUpload(target: Repository, options: CallOptions): Promise<Upload> {
    const response = await this.api.call(
      target,
      { method: 'POST', path: 'blobs/uploads/', actions: ['pull', 'push'], expect: [202] },
      { ...options, retry: false },
    );
    const upload = uploadOf(response);
    if (!upload)
      throw new Error(`${canonicalName(target)}: the registry opened an upload without a Location`);
    return upload;
  }
}

/** What a manifest PUT stored: its digest, and the subject a registry with the referrers API indexed it under. */
export interface StoredManifest {
  readonly digest: Digest;
  readonly subject?: Digest;
}

/** Most pages of one referrers answer followed: a registry paging 100 at a time lists 1600 referrers. */
const MAX_REFERRER_PAGES = 16;
/** Most bytes of referrers pages read for one subject, all pages together: room for far more than MAX_REFERRERS. */
const MAX_REFERRER_BYTES = 4 * 1024 * 1024;
/** Answers from the referrers path that mean the registry has no referrers API. */
const NO_REFERRERS_API: readonly number[] = [400, 404, 405, 501];

/** The `rel="next"` target of a `Link` header (RFC 8288), resolved against the request URL. */
export function nextLink(header: string | undefined, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/i.test(match[2] ?? '')) {
      try {
        return new URL(match[1] ?? '', base).toString();
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
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
