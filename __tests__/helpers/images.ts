import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { TestRegistry } from './registry.js';

/**
 * Pushes small synthetic images straight over the registry HTTP API (not through src/), so fixtures don't
 * depend on the code under test. Layers are gzipped bytes, not real tarballs: nothing here unpacks them.
 */

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  inToto: 'application/vnd.in-toto+json',
} as const;

/** Accept header value covering every manifest type the helpers push. */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifest,
].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface PushedManifest {
  digest: string;
  size: number;
  mediaType: string;
  bytes: Uint8Array;
  repository: string;
}

export interface PushedImage extends PushedManifest {
  platform: Platform;
  configDigest: string;
  layerDigests: string[];
}

/** Only what pushing needs, so a proxy in front of a registry can stand in for it. */
export type RegistryEndpoint = Pick<TestRegistry, 'url' | 'adminAuthorization'>;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Monolithic upload: POST to open a session, then a single PUT carrying the whole blob. */
export async function pushBlob(reg: RegistryEndpoint, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  const headers = authHeaders(reg, repo);
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  await expectStatus(start, 202, `POST blob upload to ${repo}`);
  const location = start.headers.get('location');
  if (location === null) throw new Error(`POST blob upload to ${repo}: no Location header`);
  // The Location may be relative and usually already carries a query (the upload state).
  const target = new URL(location, reg.url).toString();
  const separator = target.includes('?') ? '&' : '?';
  const put = await fetch(`${target}${separator}digest=${encodeURIComponent(digest)}`, {
    method: 'PUT',
    headers: { ...headers, 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  await expectStatus(put, 201, `PUT blob ${digest} to ${repo}`);
  return digest;
}

export async function pushManifest(
  reg: RegistryEndpoint,
  repo: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<PushedManifest> {
  const digest = sha256Digest(bytes);
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...authHeaders(reg, repo), 'Content-Type': mediaType },
    body: bytes,
  });
  await expectStatus(res, 201, `PUT manifest ${repo}:${reference}`);
  const stored = res.headers.get('docker-content-digest');
  if (stored !== null && stored !== digest) {
    throw new Error(`PUT manifest ${repo}:${reference}: registry stored ${stored}, expected ${digest}`);
  }
  return { digest, size: bytes.length, mediaType, bytes, repository: repo };
}

/**
 * One image with one layer, by digest or under `tag`. The layer is a small gzip made from the seed and the
 * platform unless `layer` gives its bytes (stored as they are, their own diff ID), e.g. a large incompressible one.
 */
export async function pushImage(
  reg: RegistryEndpoint,
  repo: string,
  options: {
    platform: Platform;
    format: 'docker' | 'oci';
    seed?: string;
    tag?: string;
    layer?: Uint8Array;
    /** The image config's labels, as `LABEL` lines (or BuildKit's `--label`) give them. */
    labels?: Record<string, string>;
  },
): Promise<PushedImage> {
  const { platform, format } = options;
  const types =
    format === 'docker'
      ? {
          manifest: MediaTypes.dockerManifest,
          config: MediaTypes.dockerConfig,
          layer: MediaTypes.dockerLayer,
        }
      : { manifest: MediaTypes.ociManifest, config: MediaTypes.ociConfig, layer: MediaTypes.ociLayer };

  // Seed and platform both feed the layer, so every image gets distinct layer, config and manifest digests.
  const content =
    options.layer ??
    encode(`layer seed=${options.seed ?? 'default'} platform=${platformKey(platform)} format=${format}`);
  const layer = options.layer ?? gzipSync(content);
  const layerDigest = await pushBlob(reg, repo, layer);

  const config = encode(
    JSON.stringify({
      ...orderedPlatform(platform),
      rootfs: { type: 'layers', diff_ids: [sha256Digest(content)] },
      config: options.labels ? { Labels: options.labels } : {},
    }),
  );
  const configDigest = await pushBlob(reg, repo, config);

  const manifest = {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: { mediaType: types.config, digest: configDigest, size: config.length },
    layers: [{ mediaType: types.layer, digest: layerDigest, size: layer.length }],
  };
  const pushed = await pushJsonManifest(reg, repo, manifest, types.manifest, options.tag);
  return { ...pushed, platform, configDigest, layerDigests: [layerDigest] };
}

/**
 * One linux image per architecture (amd64 and arm64 unless told), pushed by digest in parallel as per-platform
 * build jobs do: the sources of a merge.
 */
export function pushImages(
  reg: RegistryEndpoint,
  repo: string,
  options: { architectures?: readonly string[]; format?: 'docker' | 'oci'; seed?: string } = {},
): Promise<PushedImage[]> {
  const { architectures = ['amd64', 'arm64'], format = 'oci', seed } = options;
  return Promise.all(
    architectures.map((architecture) =>
      pushImage(reg, repo, {
        platform: { os: 'linux', architecture },
        format,
        ...(seed === undefined ? {} : { seed }),
      }),
    ),
  );
}

/** The `sources` input naming `images`: their digests, one a line. */
export function sourcesOf(images: readonly { digest: string }[]): string {
  return images.map((image) => image.digest).join('\n');
}

/**
 * Mimics `docker buildx build --provenance`: an OCI index holding the platform image plus an in-toto
 * attestation manifest (platform unknown/unknown) that points back at the image by annotation.
 */
export async function pushBuildxIndex(
  reg: RegistryEndpoint,
  repo: string,
  options: { platform: Platform; seed?: string; tag?: string; labels?: Record<string, string> },
): Promise<{ index: PushedManifest; image: PushedImage; attestation: PushedManifest }> {
  const { index, images, attestations } = await pushBuildxImage(reg, repo, {
    platforms: [options.platform],
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.tag === undefined ? {} : { tag: options.tag }),
    ...(options.labels === undefined ? {} : { labels: options.labels }),
  });
  return { index, image: images[0] as PushedImage, attestation: attestations[0] as PushedManifest };
}

/**
 * What `docker buildx build --platform a,b --provenance` pushes: one OCI index holding each platform image, each
 * followed by its in-toto attestation manifest (platform unknown/unknown, pointing back at the image by
 * annotation). Tagged with `tag`, or pushed by digest.
 */
export async function pushBuildxImage(
  reg: RegistryEndpoint,
  repo: string,
  options: { platforms: readonly Platform[]; seed?: string; tag?: string; labels?: Record<string, string> },
): Promise<{ index: PushedManifest; images: PushedImage[]; attestations: PushedManifest[] }> {
  const pairs = await Promise.all(
    options.platforms.map(async (platform) => {
      const image = await pushImage(reg, repo, {
        platform,
        format: 'oci',
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        ...(options.labels === undefined ? {} : { labels: options.labels }),
      });
      return { image, attestation: await pushAttestation(reg, repo, image) };
    }),
  );
  const manifests: Descriptor[] = pairs.flatMap(({ image, attestation }) => [
    {
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.size,
      platform: orderedPlatform(image.platform),
    },
    {
      mediaType: attestation.mediaType,
      digest: attestation.digest,
      size: attestation.size,
      annotations: {
        'vnd.docker.reference.digest': image.digest,
        'vnd.docker.reference.type': 'attestation-manifest',
      },
      platform: { architecture: 'unknown', os: 'unknown' },
    },
  ]);
  // The registry checks that an index's children exist, so the index goes last.
  const index = await pushJsonManifest(
    reg,
    repo,
    { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests },
    MediaTypes.ociIndex,
    options.tag,
  );
  return {
    index,
    images: pairs.map((p) => p.image),
    attestations: pairs.map((p) => p.attestation),
  };
}

/** BuildKit's provenance attestation of `image`: an in-toto statement layer under an unknown/unknown config. */
async function pushAttestation(
  reg: RegistryEndpoint,
  repo: string,
  image: PushedImage,
): Promise<PushedManifest> {
  const statement = encode(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [{ name: `pkg:docker/${repo}`, digest: { sha256: image.digest.slice('sha256:'.length) } }],
      predicate: { builder: { id: '' }, buildType: 'https://mobyproject.org/buildkit@v1' },
    }),
  );
  const statementDigest = await pushBlob(reg, repo, statement);
  const attestationConfig = encode(
    JSON.stringify({
      architecture: 'unknown',
      os: 'unknown',
      config: {},
      rootfs: { type: 'layers', diff_ids: [statementDigest] },
    }),
  );
  const attestationConfigDigest = await pushBlob(reg, repo, attestationConfig);
  return pushJsonManifest(
    reg,
    repo,
    {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: {
        mediaType: MediaTypes.ociConfig,
        digest: attestationConfigDigest,
        size: attestationConfig.length,
      },
      layers: [
        {
          mediaType: MediaTypes.inToto,
          digest: statementDigest,
          size: statement.length,
          annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
        },
      ],
    },
    MediaTypes.ociManifest,
  );
}

/** A referrer's entry in a referrers list (and in a fallback tag): its descriptor and artifact type. */
export interface ReferrerEntry {
  mediaType: string;
  digest: string;
  size: number;
  artifactType: string;
  annotations?: Record<string, string>;
}

/**
 * A referrer of `subject` as cosign (a signature) or an SBOM tool attaches it: an OCI manifest with an empty
 * config, one layer holding `text`, an `artifactType` and a `subject`, pushed by digest. Nothing lists it yet; on
 * a registry without the referrers API the tool then writes the fallback tag (`pushFallbackTag`).
 */
export async function pushReferrer(
  reg: RegistryEndpoint,
  repo: string,
  subject: Pick<PushedManifest, 'mediaType' | 'digest' | 'size'>,
  options: { artifactType: string; text: string; annotations?: Record<string, string> },
): Promise<PushedManifest & { entry: ReferrerEntry }> {
  const empty = encode('{}');
  const emptyDigest = await pushBlob(reg, repo, empty);
  const layer = encode(options.text);
  const layerDigest = await pushBlob(reg, repo, layer);
  const pushed = await pushJsonManifest(
    reg,
    repo,
    {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      artifactType: options.artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: empty.length },
      layers: [{ mediaType: options.artifactType, digest: layerDigest, size: layer.length }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    MediaTypes.ociManifest,
  );
  const entry: ReferrerEntry = {
    mediaType: pushed.mediaType,
    digest: pushed.digest,
    size: pushed.size,
    artifactType: options.artifactType,
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  return { ...pushed, entry };
}

/** The referrers fallback tag of a digest: `sha256-<hex>`. */
export function fallbackTagOf(digest: string): string {
  return digest.replace(':', '-');
}

/** Writes `subject`'s fallback tag listing `entries`, as cosign or oras does on a registry without the API. */
export function pushFallbackTag(
  reg: RegistryEndpoint,
  repo: string,
  subject: string,
  entries: readonly ReferrerEntry[],
): Promise<PushedManifest> {
  return pushJsonManifest(
    reg,
    repo,
    { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: entries },
    MediaTypes.ociIndex,
    fallbackTagOf(subject),
  );
}

/**
 * The digest a tag (or digest) serves in the registry itself, asked with a HEAD carrying the admin credentials,
 * so through no proxy and past any access rule; null when it serves nothing.
 */
export async function served(reg: RegistryEndpoint, repo: string, reference: string): Promise<string | null> {
  const response = await fetch(`${reg.url}/v2/${repo}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_ACCEPT, ...authHeaders(reg, repo) },
  });
  return response.ok ? response.headers.get('docker-content-digest') : null;
}

export interface FetchedManifest {
  status: number;
  /** Docker-Content-Digest, null when absent. */
  digest: string | null;
  /** The body as served. */
  text: string;
  /** The parsed body, undefined unless the answer was 2xx. */
  json: Record<string, unknown> | undefined;
}

/** GET of a manifest straight from the registry, with the admin credentials: what a later pull would see. */
export async function fetchManifest(
  reg: RegistryEndpoint,
  repo: string,
  reference: string,
): Promise<FetchedManifest> {
  const response = await fetch(`${reg.url}/v2/${repo}/manifests/${reference}`, {
    headers: { accept: MANIFEST_ACCEPT, ...authHeaders(reg, repo) },
  });
  const text = await response.text();
  return {
    status: response.status,
    digest: response.headers.get('docker-content-digest'),
    text,
    json: response.ok ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

/** Pushes `manifest` serialized as JSON, under `tag`, or by its digest when no tag is given. */
export async function pushJsonManifest(
  reg: RegistryEndpoint,
  repo: string,
  manifest: object,
  mediaType: string,
  tag?: string,
): Promise<PushedManifest> {
  const bytes = encode(JSON.stringify(manifest));
  return pushManifest(reg, repo, tag ?? sha256Digest(bytes), bytes, mediaType);
}

/** OCI field order, leaving out what the caller didn't set, so serialized bytes are predictable. */
function orderedPlatform(platform: Platform): Platform {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform['os.version'] === undefined ? {} : { 'os.version': platform['os.version'] }),
    ...(platform['os.features'] === undefined ? {} : { 'os.features': platform['os.features'] }),
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
  };
}

function platformKey(platform: Platform): string {
  return [
    platform.os,
    platform.architecture,
    platform.variant ?? '',
    platform['os.version'] ?? '',
    (platform['os.features'] ?? []).join('+'),
  ].join('/');
}

/** The admin Authorization header for `repo`, as a headers object; empty for an open registry. */
export function authHeaders(reg: RegistryEndpoint, repo: string): Record<string, string> {
  const authorization = reg.adminAuthorization(repo);
  return authorization === undefined ? {} : { Authorization: authorization };
}

async function expectStatus(res: Response, expected: number, what: string): Promise<void> {
  const body = await res.text();
  if (res.status !== expected)
    throw new Error(`${what}: expected HTTP ${expected}, got ${res.status}: ${body}`);
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
