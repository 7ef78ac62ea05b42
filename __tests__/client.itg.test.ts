import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Credential } from '../src/registry/auth.js';
import { type RegistryClient, Schema1Error } from '../src/registry/client.js';
import { type Digest, DigestMismatchError, digestOf } from '../src/registry/digest.js';
import { RegistryError } from '../src/registry/errors.js';
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from '../src/registry/media-types.js';
import { clientFor, recordingLogger, repoAt, withClient } from './helpers/client.js';
import { pushBuildxIndex, pushImage, pushImages } from './helpers/images.js';
import type { TestProxy } from './helpers/proxy.js';
import {
  startProxiedRegistry,
  startRegistry,
  stopProxiedRegistry,
  type TestRegistry,
} from './helpers/registry.js';

const MISSING = `sha256:${'0'.repeat(64)}` as Digest;

describe('open registry', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  let client: RegistryClient;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry());
    client = clientFor();
  });
  afterAll(async () => {
    await client?.close();
    await stopProxiedRegistry(reg, proxy);
  });

  test.each(['docker', 'oci'] as const)(
    'GET, HEAD and PUT a %s manifest by digest and by tag',
    async (format) => {
      const repo = repoAt(reg.host, `client/${format}`);
      const pushed = await pushImage(reg, `client/${format}`, {
        platform: { os: 'linux', architecture: 'amd64' },
        format,
      });
      const digest = pushed.digest as Digest;
      const expectedType = format === 'docker' ? DOCKER_MANIFEST : OCI_MANIFEST;

      const got = await client.getManifest(repo, digest);
      expect(got.descriptor).toEqual({ mediaType: expectedType, digest, size: pushed.size });
      expect(Buffer.from(got.bytes).equals(Buffer.from(pushed.bytes))).toBe(true);
      expect(got.json['schemaVersion']).toBe(2);

      expect(await client.headManifest(repo, digest)).toEqual({
        mediaType: expectedType,
        digest,
        size: pushed.size,
      });

      // PUT the same bytes under a tag; then the tag serves exactly those bytes.
      expect((await client.putManifest(repo, 'v1', pushed.bytes, expectedType)).digest).toBe(digest);
      expect((await client.headManifest(repo, 'v1')).digest).toBe(digest);
      const byTag = await client.getManifest(repo, 'v1');
      expect(byTag.descriptor.digest).toBe(digest);
      expect(byTag.descriptor.mediaType).toBe(expectedType);

      // PUT by digest is accepted too, and a wrong digest reference is refused before sending.
      expect((await client.putManifest(repo, digest, pushed.bytes, expectedType)).digest).toBe(digest);
      await expect(client.putManifest(repo, MISSING, pushed.bytes, expectedType)).rejects.toThrow(/hash to/);
    },
  );

  test('an index by tag is served as the index, not one of its children', async () => {
    const { index } = await pushBuildxIndex(reg, 'client/buildx', {
      platform: { os: 'linux', architecture: 'arm64' },
      tag: 'multi',
    });
    const got = await client.getManifest(repoAt(reg.host, 'client/buildx'), 'multi');
    expect(got.descriptor).toEqual({ mediaType: OCI_INDEX, digest: index.digest, size: index.size });
  });

  test('404 is a typed MANIFEST_UNKNOWN error on GET and HEAD, and BLOB_UNKNOWN for blobs', async () => {
    const repo = repoAt(reg.host, 'client/docker');
    for (const call of [() => client.getManifest(repo, MISSING), () => client.headManifest(repo, MISSING)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).status).toBe(404);
      expect((error as RegistryError).hasCode('MANIFEST_UNKNOWN')).toBe(true);
    }
    const blob = await client.headBlob(repo, MISSING).catch((e: unknown) => e);
    expect((blob as RegistryError).hasCode('BLOB_UNKNOWN')).toBe(true);
  });

  test('a body that does not match its digest is rejected', async () => {
    const pushed = await pushImage(reg, 'client/tamper', {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'oci',
    });
    const tampered = Buffer.from(pushed.bytes)
      .toString('utf8')
      .replace('"schemaVersion":2', '"schemaVersion": 2');
    proxy.setHandler(async (req, forward) => {
      const response = await forward();
      if (!req.path.includes('/manifests/')) return response;
      return {
        ...response,
        headers: { ...response.headers, 'content-length': String(tampered.length) },
        body: Buffer.from(tampered),
      };
    });
    try {
      const repo = repoAt(proxy.host, 'client/tamper');
      const error = await client.getManifest(repo, pushed.digest as Digest).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DigestMismatchError);
      expect((error as Error).message).toContain(
        `expected ${pushed.digest}, got ${digestOf(Buffer.from(tampered))}`,
      );
      // By tag there is no digest to compare with, but Docker-Content-Digest still disagrees with the bytes.
      await client.putManifest(repoAt(reg.host, 'client/tamper'), 'latest', pushed.bytes, OCI_MANIFEST);
      await expect(client.getManifest(repo, 'latest')).rejects.toThrow(/bytes hash to/);
    } finally {
      proxy.setHandler(undefined);
    }
  });

  test('a schema 1 manifest is refused with an explanation', async () => {
    const schema1 = Buffer.from(
      JSON.stringify({
        schemaVersion: 1,
        name: 'client/old',
        tag: 'v1',
        architecture: 'amd64',
        fsLayers: [],
        history: [],
      }),
    );
    proxy.setHandler(async () => ({
      status: 200,
      headers: {
        'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws',
        'docker-content-digest': digestOf(schema1),
        'content-length': String(schema1.length),
      },
      body: schema1,
    }));
    try {
      const repo = repoAt(proxy.host, 'client/old');
      await expect(client.getManifest(repo, 'v1')).rejects.toThrow(Schema1Error);
      await expect(client.getManifest(repo, 'v1')).rejects.toThrow(/schema 1.*rebuild and push/);
      await expect(client.headManifest(repo, 'v1')).rejects.toThrow(Schema1Error);
    } finally {
      proxy.setHandler(undefined);
    }
  });

  test('every manifest request sends the full Accept list', async () => {
    const seen: string[] = [];
    proxy.setHandler(async (req, forward) => {
      if (req.path.includes('/manifests/')) seen.push(String(req.headers['accept']));
      return forward();
    });
    try {
      const repo = repoAt(proxy.host, 'client/docker');
      await client.headManifest(repo, 'v1');
      await client.getManifest(repo, 'v1');
    } finally {
      proxy.setHandler(undefined);
    }
    expect(seen).toHaveLength(2);
    for (const accept of seen) {
      for (const type of [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_MANIFEST,
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ]) {
        expect(accept).toContain(type);
      }
    }
  });

  test('a HEAD without Docker-Content-Digest falls back to a GET and hashes the bytes', async () => {
    const pushed = await pushImage(reg, 'client/nodigest', {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'oci',
      tag: 'v1',
    });
    const seen: string[] = [];
    proxy.setHandler(async (req, forward) => {
      seen.push(req.method);
      const response = await forward();
      const { 'docker-content-digest': _dropped, ...headers } = response.headers;
      return { ...response, headers };
    });
    try {
      const head = await client.headManifest(repoAt(proxy.host, 'client/nodigest'), 'v1');
      expect(head).toEqual({ mediaType: OCI_MANIFEST, digest: pushed.digest, size: pushed.size });
      expect(seen).toEqual(['HEAD', 'GET']);
    } finally {
      proxy.setHandler(undefined);
    }
  });

  test('a mount the registry answers with an upload (202) is finished through that upload, never DELETEd', async () => {
    const pushed = await pushImage(reg, 'client/mount-src', {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'docker',
    });
    const blob = pushed.layerDigests[0] as Digest;
    const seen: string[] = [];
    proxy.setHandler(async (req, forward) => {
      seen.push(`${req.method} ${req.path.split('?')[0]}${req.path.includes('mount=') ? ' (mount)' : ''}`);
      // As a registry does when the caller may not read the source: it ignores the mount and opens an upload.
      if (req.path.includes('mount=')) return forward({ ...req, path: req.path.split('?')[0] ?? req.path });
      return forward();
    });
    try {
      const target = repoAt(proxy.host, 'client/mount-dst');
      const source = repoAt(proxy.host, 'client/mount-src');
      const mount = await client.mountBlob(target, blob, source);
      expect(mount.mounted).toBe(false);
      const upload = mount.mounted ? undefined : mount.upload;
      expect(upload?.location).toMatch(/\/v2\/client\/mount-dst\/blobs\/uploads\//);
      await client.copyBlob(source, target, blob, {}, upload);
      expect((await client.headBlob(repoAt(reg.host, 'client/mount-dst'), blob)).size).toBeGreaterThan(0);
      expect(seen.filter((r) => r.startsWith('DELETE'))).toHaveLength(0);
      // The opened upload is the one finished: one POST (the mount), no second one, one PUT.
      expect(seen.filter((r) => r.startsWith('POST'))).toHaveLength(1);
      expect(seen.filter((r) => r.startsWith('PUT /v2/client/mount-dst/blobs/uploads/'))).toHaveLength(1);
    } finally {
      proxy.setHandler(undefined);
    }
  });

  test('a manifest over 4 MiB is refused', async () => {
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    proxy.setHandler(async () => ({
      status: 200,
      headers: { 'content-type': OCI_MANIFEST, 'content-length': String(huge.length) },
      body: huge,
    }));
    try {
      await expect(client.getManifest(repoAt(proxy.host, 'client/huge'), 'v1')).rejects.toThrow(
        /larger than 4194304/,
      );
    } finally {
      proxy.setHandler(undefined);
    }
  });
});

/** The registry's user with `password` (by default the right one), as Basic credentials. */
function basic(reg: TestRegistry, password = reg.password): Credential {
  return { kind: 'basic', username: reg.username, password };
}

/** An anonymous client's HEAD of `path`:v1 on `reg` is refused with 401. */
function expectAnonymousRefused(reg: TestRegistry, path: string): Promise<void> {
  return withClient({}, async (client) => {
    await expect(client.headManifest(repoAt(reg.host, path), 'v1')).rejects.toMatchObject({ status: 401 });
  });
}

describe('htpasswd registry (Basic auth)', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
  });
  afterAll(async () => reg?.stop());

  test('valid credentials read and write', async () => {
    const pushed = await pushImage(reg, 'basic/app', {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'docker',
    });
    await withClient({ credential: basic(reg) }, async (client) => {
      const repo = repoAt(reg.host, 'basic/app');
      expect((await client.getManifest(repo, pushed.digest as Digest)).descriptor.digest).toBe(pushed.digest);
      expect((await client.putManifest(repo, 'v1', pushed.bytes, DOCKER_MANIFEST)).digest).toBe(
        pushed.digest,
      );
    });
  });

  test('a wrong password fails at once with a clear error naming the registry, never the password', async () => {
    const password = 'wrong-password-4711';
    const log = recordingLogger();
    log.secret(password);
    await withClient({ credential: basic(reg, password), log }, async (client) => {
      const error = await client.headManifest(repoAt(reg.host, 'basic/app'), 'v1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).status).toBe(401);
      expect((error as Error).message).toContain(`Authentication failed for ${reg.host}`);
      expect((error as Error).message).not.toContain(password);
      expect(log.lines.join('\n')).not.toContain(password);
      expect(log.lines.join('\n')).not.toContain(
        Buffer.from(`${reg.username}:${password}`).toString('base64'),
      );
    });
  });

  test('anonymous access is refused with 401', () => expectAnonymousRefused(reg, 'basic/app'));
});

describe('token registry (Bearer auth)', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' });
  });
  afterAll(async () => reg?.stop());

  test('one token serves many parallel requests; a new scope asks once more', async () => {
    const pushed = await pushImages(reg, 'bearer/app', {
      architectures: ['amd64', 'arm64', 'ppc64le', 's390x'],
    });
    const server = reg.tokenServer;
    if (!server) throw new Error('token server missing');
    const repo = repoAt(reg.host, 'bearer/app');
    await withClient({ credential: basic(reg) }, async (client) => {
      const before = server.requests.length;
      const got = await Promise.all(pushed.map((p) => client.getManifest(repo, p.digest as Digest)));
      expect(got.map((m) => m.descriptor.digest)).toEqual(pushed.map((p) => p.digest));
      await Promise.all(pushed.map((p) => client.headManifest(repo, p.digest as Digest)));
      const reads = server.requests.slice(before);
      expect(reads).toHaveLength(1);
      expect(reads[0]?.scopes).toEqual(['repository:bearer/app:pull']);
      expect(reads[0]?.authorized).toBe(true);

      // Writing needs push: exactly one more token, asked with every scope so far.
      const first = pushed[0];
      if (!first) throw new Error('nothing pushed');
      expect((await client.putManifest(repo, 'v1', first.bytes, OCI_MANIFEST)).digest).toBe(first.digest);
      expect((await client.putManifest(repo, 'v2', first.bytes, OCI_MANIFEST)).digest).toBe(first.digest);
      const writes = server.requests.slice(before + 1);
      expect(writes).toHaveLength(1);
      expect(writes[0]?.scopes).toEqual(['repository:bearer/app:pull,push']);
    });
  });

  test('scopes declared up front give one token for the whole run', async () => {
    const server = reg.tokenServer;
    if (!server) throw new Error('token server missing');
    const repo = repoAt(reg.host, 'bearer/declared');
    const other = repoAt(reg.host, 'bearer/source');
    await withClient({ credential: basic(reg) }, async (client) => {
      client.declare(repo, ['pull', 'push']);
      client.declare(other, ['pull']);
      const before = server.requests.length;
      await Promise.allSettled([client.headManifest(repo, MISSING), client.headManifest(other, MISSING)]);
      const pushed = await pushImage(reg, 'bearer/declared', {
        platform: { os: 'linux', architecture: 'amd64' },
        format: 'oci',
      });
      await client.putManifest(repo, 'v1', pushed.bytes, OCI_MANIFEST);
      const asked = server.requests.slice(before);
      expect(asked).toHaveLength(1);
      expect(asked[0]?.scopes).toEqual([
        'repository:bearer/declared:pull,push',
        'repository:bearer/source:pull',
      ]);
    });
  });

  test('wrong credentials are refused by the token server with a clear error', async () => {
    const password = 'not-the-password-0815';
    await withClient({ credential: basic(reg, password) }, async (client) => {
      const error = await client.headManifest(repoAt(reg.host, 'bearer/app'), 'v1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as Error).message).toContain(
        `refused the credentials: check username and password (or token) for ${reg.host}`,
      );
      expect((error as Error).message).not.toContain(password);
    });
  });

  test('anonymous gets a token without access, and the registry answers 401', () =>
    expectAnonymousRefused(reg, 'bearer/app'));
});
