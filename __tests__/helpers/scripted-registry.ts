import { createHash } from 'node:crypto';
import { MockAgent } from 'undici';
import type { Clock } from '../../src/clock.js';
import type { RunContext } from '../../src/context.js';
import type { Logger } from '../../src/log.js';
import { RegistryClient } from '../../src/registry/client.js';
import { parseRepository, type Repository } from '../../src/registry/reference.js';
import { recordingLogger } from './client.js';
import { fakeClock } from './fake-clock.js';
import { errorBody } from './registry-errors.js';
import { undiciTransport } from './undici-transport.js';

/**
 * An in-memory registry behind undici's MockAgent (no sockets, no network): manifests and blobs per repository,
 * stored under the sha256 of their exact bytes, answering the distribution API the client uses. One scripted
 * handler answers every request of its origin and logs it. Content is built here, not through src/.
 */

export const TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  foreignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  inToto: 'application/vnd.in-toto+json',
} as const;

export type Digest = `sha256:${string}`;

/** A descriptor as an index lists it. */
export interface Entry {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly artifactType?: string;
}

export interface Pushed extends Entry {
  readonly bytes: Buffer;
}

export interface Logged {
  readonly method: string;
  /** Path and query as sent. */
  readonly path: string;
  readonly status: number;
}

interface Answer {
  readonly status: number;
  readonly body?: Buffer;
  readonly headers?: Record<string, string>;
}

export const sha256 = (bytes: Uint8Array): Digest =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

async function bytesOf(body: unknown): Promise<Buffer> {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function error(status: number, code: string): Answer {
  return {
    status,
    body: Buffer.from(errorBody([{ code, message: code.toLowerCase().replace(/_/g, ' ') }])),
    headers: { 'content-type': 'application/json' },
  };
}

const PATH = /^\/v2\/(.+?)\/(manifests|blobs\/uploads|blobs|referrers)\/([^?]*)(?:\?(.*))?$/;

export class ScriptedRegistry {
  readonly log: Logged[] = [];
  /** Answer every cross-repository mount with 202 and an upload Location, as GHCR across organisations. */
  openUploadOnMount = false;
  /**
   * Have the OCI referrers API, as Docker Hub, ECR, ACR, Harbor >= 2.10, Quay, zot and distribution v3 do:
   * `GET /v2/<repo>/referrers/<digest>` lists the manifests whose subject is that digest, and a manifest PUT with a
   * subject answers `OCI-Subject`. Without it (GHCR, distribution 2.8) that path answers 404.
   */
  referrersApi = false;
  /** How the referrers path answers instead, when set: a status without the API, or another content type. */
  referrersScript:
    | {
        readonly status?: number;
        readonly contentType?: string;
        /** Entries answered instead of the referrers stored. */
        readonly manifests?: readonly unknown[];
      }
    | undefined;
  private readonly tags = new Map<string, Map<string, string>>();
  /**
   * Answer a manifest GET in a repository that holds no manifest with 404 NAME_UNKNOWN, as registries such as
   * GHCR do for a repository they do not know (distribution answers MANIFEST_UNKNOWN).
   */
  nameUnknown = false;
  private readonly manifests = new Map<string, Map<string, { bytes: Buffer; mediaType: string }>>();
  private readonly blobs = new Map<string, Map<string, Buffer>>();
  private readonly hidden = new Map<string, number>();
  private readonly uploads = new Map<string, string>();

  constructor(
    agent: MockAgent,
    readonly host: string,
  ) {
    agent
      .get(`https://${host}`)
      .intercept({ path: () => true, method: () => true })
      .reply(async (opts) => {
        const answer = this.answer(opts.method, opts.path, await bytesOf(opts.body));
        this.log.push({ method: opts.method, path: opts.path, status: answer.status });
        const headers = { 'docker-distribution-api-version': 'registry/2.0', ...answer.headers };
        return {
          statusCode: answer.status,
          data: answer.body ?? Buffer.alloc(0),
          responseOptions: { headers },
        };
      })
      .persist();
  }

  repo(path: string): Repository {
    return parseRepository(`${this.host}/${path}`);
  }

  /** The first `requests` manifest requests (HEAD or GET, any repository) for `digest` answer 404. */
  hide(digest: string, requests: number): void {
    this.hidden.set(digest, requests);
  }

  has(repo: string, digest: string): boolean {
    return this.manifests.get(repo)?.has(digest) === true || this.blobs.get(repo)?.has(digest) === true;
  }

  /** The requests whose path starts with `/v2/<repo>/<under>`, optionally of one method. */
  requests(repo: string, under = '', method?: string): Logged[] {
    return this.log.filter(
      (r) => r.path.startsWith(`/v2/${repo}/${under}`) && (!method || r.method === method),
    );
  }

  pushBlob(repo: string, bytes: Buffer, mediaType: string = TYPES.ociLayer): Pushed {
    const digest = sha256(bytes);
    this.store(this.blobs, repo).set(digest, bytes);
    return { mediaType, digest, size: bytes.length, bytes };
  }

  pushManifest(repo: string, manifest: Record<string, unknown>): Pushed {
    const bytes = json(manifest);
    const mediaType = String(manifest['mediaType']);
    const digest = sha256(bytes);
    this.store(this.manifests, repo).set(digest, { bytes, mediaType });
    return { mediaType, digest, size: bytes.length, bytes };
  }

  /** An image: its config (from `config`, or the platform), and one layer per text in `layers`. */
  pushImage(
    repo: string,
    options: { platform?: string; config?: Record<string, unknown>; layers?: string[]; foreign?: Entry[] },
  ): Pushed {
    const [os, architecture, variant] = (options.platform ?? 'linux/amd64').split('/');
    const config = this.pushBlob(
      repo,
      json(
        options.config ?? { architecture, os, ...(variant ? { variant } : {}), rootfs: { type: 'layers' } },
      ),
      TYPES.ociConfig,
    );
    const layers = (options.layers ?? [`layer of ${options.platform}`]).map((text) =>
      this.pushBlob(repo, Buffer.from(text)),
    );
    return this.pushManifest(repo, {
      schemaVersion: 2,
      mediaType: TYPES.ociManifest,
      config: descriptor(config),
      layers: [...layers.map(descriptor), ...(options.foreign ?? [])],
    });
  }

  pushIndex(repo: string, manifests: Entry[]): Pushed {
    return this.pushManifest(repo, { schemaVersion: 2, mediaType: TYPES.ociIndex, manifests });
  }

  /** A BuildKit attestation manifest for `subject`, and the index entry that names it with Docker annotations. */
  pushAttestation(repo: string, subject: Entry): Entry {
    const manifest = this.pushImage(repo, {
      config: { architecture: 'unknown', os: 'unknown' },
      layers: [`provenance of ${subject.digest}`],
    });
    return {
      ...descriptor(manifest),
      platform: { architecture: 'unknown', os: 'unknown' },
      annotations: {
        'vnd.docker.reference.type': 'attestation-manifest',
        'vnd.docker.reference.digest': subject.digest,
      },
    };
  }

  /** An OCI artifact naming `subject` only in its own `subject` field, and its (unannotated) index entry. */
  pushArtifactAttestation(repo: string, subject: Entry): Entry {
    const text = `statement about ${subject.digest}`;
    return referrerEntry(this.pushReferrer(repo, subject, { artifactType: TYPES.inToto, text }));
  }

  /**
   * A referrer of `subject` as cosign or an SBOM tool pushes it: an artifact manifest with an empty config, one
   * layer of `text`, `artifactType` and `subject`, by digest. Listed nowhere else: see `pushFallbackTag`.
   */
  pushReferrer(
    repo: string,
    subject: Entry,
    options: { artifactType: string; text: string; annotations?: Record<string, string> },
  ): Pushed & { readonly artifactType: string } {
    const empty = this.pushBlob(repo, Buffer.from('{}'), TYPES.ociEmpty);
    const layer = this.pushBlob(repo, Buffer.from(options.text), options.artifactType);
    const pushed = this.pushManifest(repo, {
      schemaVersion: 2,
      mediaType: TYPES.ociManifest,
      artifactType: options.artifactType,
      config: descriptor(empty),
      layers: [descriptor(layer)],
      subject: descriptor(subject),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    });
    return { ...pushed, artifactType: options.artifactType };
  }

  /** The fallback tag `sha256-<hex>` of `subject`, listing `entries`, as a tool writes it where there is no API. */
  pushFallbackTag(
    repo: string,
    subject: string,
    entries: Entry[],
    annotations?: Record<string, string>,
  ): Pushed {
    const index = annotations
      ? this.pushManifest(repo, {
          schemaVersion: 2,
          mediaType: TYPES.ociIndex,
          manifests: entries,
          annotations,
        })
      : this.pushIndex(repo, entries);
    this.store(this.tags, repo).set(subject.replace(':', '-'), index.digest);
    return index;
  }

  /** Answers a manifest PUT with 403 DENIED when it says so, as a registry whose policy refuses the write. */
  denyManifestPut: ((repo: string, reference: string) => boolean) | undefined;

  /** Called after every manifest PUT is stored: a test may act as another writer right then. */
  afterManifestPut: ((repo: string, reference: string) => void) | undefined;

  private store<T>(where: Map<string, Map<string, T>>, repo: string): Map<string, T> {
    let inRepo = where.get(repo);
    if (!inRepo) {
      inRepo = new Map();
      where.set(repo, inRepo);
    }
    return inRepo;
  }

  private answer(method: string, path: string, body: Buffer): Answer {
    if (path === '/v2/' && method === 'GET') return { status: 200, body: json({}) };
    const match = PATH.exec(path);
    if (!match) return error(404, 'NAME_UNKNOWN');
    const [, repo = '', kind, reference = '', query = ''] = match;
    const params = new URLSearchParams(query);
    if (kind === 'manifests') return this.manifestAnswer(method, repo, reference, body);
    if (kind === 'referrers') return this.referrersAnswer(method, repo, reference);
    if (kind === 'blobs') return this.blobAnswer(method, repo, reference);
    if (method === 'POST' && reference === '') return this.openUpload(repo, params);
    if (method === 'PUT' && this.uploads.get(reference) === repo) {
      const digest = params.get('digest') ?? '';
      if (sha256(body) !== digest) return error(400, 'DIGEST_INVALID');
      this.uploads.delete(reference);
      this.store(this.blobs, repo).set(digest, body);
      return {
        status: 201,
        headers: { 'docker-content-digest': digest, location: `/v2/${repo}/blobs/${digest}` },
      };
    }
    return error(
      method === 'DELETE' ? 405 : 404,
      method === 'DELETE' ? 'UNSUPPORTED' : 'BLOB_UPLOAD_UNKNOWN',
    );
  }

  private manifestAnswer(method: string, repo: string, reference: string, body: Buffer): Answer {
    if (method === 'PUT') {
      if (this.denyManifestPut?.(repo, reference)) return error(403, 'DENIED');
      const digest = sha256(body);
      if (reference.startsWith('sha256:') && reference !== digest) return error(400, 'DIGEST_INVALID');
      const manifest = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (!this.referencesPresent(repo, manifest)) return error(400, 'MANIFEST_BLOB_UNKNOWN');
      this.store(this.manifests, repo).set(digest, { bytes: body, mediaType: String(manifest['mediaType']) });
      if (!reference.startsWith('sha256:')) this.store(this.tags, repo).set(reference, digest);
      this.afterManifestPut?.(repo, reference);
      const subject = (manifest['subject'] as Entry | undefined)?.digest;
      return {
        status: 201,
        headers: {
          'docker-content-digest': digest,
          ...(this.referrersApi && subject ? { 'oci-subject': subject } : {}),
        },
      };
    }
    const digest = reference.startsWith('sha256:') ? reference : this.tags.get(repo)?.get(reference);
    const left = this.hidden.get(reference) ?? 0;
    if (left > 0) this.hidden.set(reference, left - 1);
    const stored = digest === undefined ? undefined : this.manifests.get(repo)?.get(digest);
    if (left > 0 || !stored) {
      if (method === 'HEAD') return { status: 404 };
      const unknown = this.nameUnknown && (this.manifests.get(repo)?.size ?? 0) === 0;
      return error(404, unknown ? 'NAME_UNKNOWN' : 'MANIFEST_UNKNOWN');
    }
    const headers = {
      'content-type': stored.mediaType,
      'docker-content-digest': digest as string,
      'content-length': String(stored.bytes.length),
    };
    return { status: 200, headers, ...(method === 'GET' ? { body: stored.bytes } : {}) };
  }

  /** Points `tag` at a manifest already pushed, as a push by tag would. */
  tag(repo: string, tag: string, pushed: Entry): void {
    this.store(this.tags, repo).set(tag, pushed.digest);
  }

  /** The digest `tag` holds in `repo`, if any. */
  tagged(repo: string, tag: string): string | undefined {
    return this.tags.get(repo)?.get(tag);
  }

  /** The stored manifest `reference` (tag or digest) names in `repo`, parsed. */
  manifest(repo: string, reference: string): Record<string, unknown> | undefined {
    const digest = reference.startsWith('sha256:') ? reference : this.tagged(repo, reference);
    const stored = digest === undefined ? undefined : this.manifests.get(repo)?.get(digest);
    return stored && (JSON.parse(stored.bytes.toString('utf8')) as Record<string, unknown>);
  }

  /** The referrers API's answer: every stored manifest of the repository whose subject is `digest`, by digest. */
  private referrersAnswer(method: string, repo: string, digest: string): Answer {
    const scripted = this.referrersScript;
    if (scripted?.status) return error(scripted.status, 'UNSUPPORTED');
    if (!this.referrersApi || method !== 'GET') return error(404, 'NAME_UNKNOWN');
    const manifests = [...(this.manifests.get(repo) ?? new Map()).entries()]
      .flatMap(([stored, { bytes, mediaType }]) => {
        const json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
        if ((json['subject'] as Entry | undefined)?.digest !== digest) return [];
        const config = (json['config'] as Entry | undefined)?.mediaType;
        const artifactType = (json['artifactType'] as string | undefined) ?? config;
        return [
          {
            mediaType,
            digest: stored,
            size: bytes.length,
            ...(artifactType ? { artifactType } : {}),
            ...(json['annotations'] ? { annotations: json['annotations'] } : {}),
          },
        ];
      })
      .sort((a, b) => (a.digest < b.digest ? -1 : 1));
    return {
      status: 200,
      headers: { 'content-type': scripted?.contentType ?? TYPES.ociIndex },
      body: json({
        schemaVersion: 2,
        mediaType: TYPES.ociIndex,
        manifests: scripted?.manifests ?? manifests,
      }),
    };
  }

  /** Blobs an image names (but not those with `urls`), or children an index names, as a registry checks on PUT. */
  private referencesPresent(repo: string, manifest: Record<string, unknown>): boolean {
    const children = (manifest['manifests'] ?? []) as Entry[];
    const blobs = [manifest['config'], ...((manifest['layers'] ?? []) as unknown[])] as (
      | (Entry & { urls?: string[] })
      | undefined
    )[];
    return (
      children.every((child) => this.manifests.get(repo)?.has(child.digest)) &&
      blobs.every((blob) => !blob || blob.urls !== undefined || this.blobs.get(repo)?.has(blob.digest))
    );
  }

  private blobAnswer(method: string, repo: string, digest: string): Answer {
    const bytes = this.blobs.get(repo)?.get(digest);
    if (!bytes) return method === 'HEAD' ? { status: 404 } : error(404, 'BLOB_UNKNOWN');
    const headers = {
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest,
      'content-length': String(bytes.length),
    };
    return { status: 200, headers, ...(method === 'GET' ? { body: bytes } : {}) };
  }

  private openUpload(repo: string, params: URLSearchParams): Answer {
    const mount = params.get('mount');
    const from = params.get('from');
    const found = mount && from ? this.blobs.get(from)?.get(mount) : undefined;
    if (mount && found && !this.openUploadOnMount) {
      this.store(this.blobs, repo).set(mount, found);
      return {
        status: 201,
        headers: { 'docker-content-digest': mount, location: `/v2/${repo}/blobs/${mount}` },
      };
    }
    const id = `upload-${this.uploads.size + 1}-${this.log.length}`;
    this.uploads.set(id, repo);
    return { status: 202, headers: { location: `/v2/${repo}/blobs/uploads/${id}?_state=opaque` } };
  }
}

export function descriptor(pushed: Entry): Entry {
  return { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size };
}

/** A referrer's entry in a referrers list: its descriptor and artifact type. */
export function referrerEntry(pushed: Entry & { readonly artifactType: string }): Entry {
  return { ...descriptor(pushed), artifactType: pushed.artifactType };
}

/** An index entry for an image, with its platform. */
export function entry(pushed: Entry, platform: string): Entry {
  const [os = '', architecture = '', variant] = platform.split('/');
  return { ...descriptor(pushed), platform: { architecture, os, ...(variant ? { variant } : {}) } };
}

/**
 * A RegistryClient over a MockAgent with no way out, one scripted registry per host, a fake clock and a
 * recording logger, and the RunContext the phases take (deadline `waitMs` from now).
 */
export function scriptedWorld(
  hosts: string[] = ['reg.test'],
  options: { waitMs?: number; log?: Logger } = {},
) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const registries = hosts.map((host) => new ScriptedRegistry(agent, host));
  const clock: Clock & { sleeps: number[] } = fakeClock();
  const recorded = recordingLogger();
  const log = options.log ?? recorded;
  const client = new RegistryClient({
    credentials: async () => undefined,
    log,
    clock,
    transport: undiciTransport(agent),
    random: () => 0.5,
  });
  const context: RunContext = { client, log, clock, deadline: clock.now() + (options.waitMs ?? 60_000) };
  return {
    registries,
    registry: registries[0] as ScriptedRegistry,
    client,
    clock,
    lines: recorded.lines,
    context,
    close: async () => {
      await client.close();
      await agent.close();
    },
  };
}
