import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_ACCEPT, MediaTypes, pushBuildxIndex, pushImage, sha256Digest } from './helpers/images.js';
import { maxConcurrency, type RequestLogEntry, sequentialRoundTrips, startProxy } from './helpers/proxy.js';
import {
  type AuthMode,
  REGISTRY_BIN_VARIABLE,
  registryBinary,
  startRegistry,
  type TestRegistry,
  TOKEN_SERVICE,
} from './helpers/registry.js';

// Proves the test harness itself against the real registry, so later failures can be trusted to be ours.

const linuxAmd64 = { os: 'linux', architecture: 'amd64' };
const linuxArmV7 = { os: 'linux', architecture: 'arm', variant: 'v7' };

async function getManifest(reg: TestRegistry, repo: string, reference: string, authorization?: string) {
  const auth = authorization ?? reg.adminAuthorization(repo);
  const headers = { Accept: MANIFEST_ACCEPT, ...(auth === undefined ? {} : { Authorization: auth }) };
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${reference}`, { headers });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

describe.each<AuthMode>(['none', 'htpasswd', 'token'])('registry with auth=%s', (auth) => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('stores pushed Docker, OCI and buildx manifests byte for byte', async () => {
    const repo = 'harness/app';
    const docker = await pushImage(reg, repo, { platform: linuxAmd64, format: 'docker', seed: auth });
    const oci = await pushImage(reg, repo, { platform: linuxAmd64, format: 'oci', seed: auth });
    const buildx = await pushBuildxIndex(reg, repo, { platform: linuxArmV7, seed: auth, tag: 'buildx' });

    expect(new Set([docker.digest, oci.digest, buildx.image.digest]).size).toBe(3);
    for (const pushed of [docker, oci, buildx.image, buildx.attestation, buildx.index]) {
      const { res, bytes } = await getManifest(reg, repo, pushed.digest);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(pushed.mediaType);
      expect(res.headers.get('docker-content-digest')).toBe(pushed.digest);
      expect(sha256Digest(bytes)).toBe(pushed.digest);
      expect(Buffer.from(bytes).equals(Buffer.from(pushed.bytes))).toBe(true);
    }

    const byTag = await getManifest(reg, repo, 'buildx');
    expect(byTag.res.headers.get('docker-content-digest')).toBe(buildx.index.digest);
    const index = JSON.parse(Buffer.from(byTag.bytes).toString('utf8'));
    expect(index.mediaType).toBe(MediaTypes.ociIndex);
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: buildx.image.digest, platform: linuxArmV7 }),
      expect.objectContaining({
        digest: buildx.attestation.digest,
        platform: { architecture: 'unknown', os: 'unknown' },
        annotations: {
          'vnd.docker.reference.digest': buildx.image.digest,
          'vnd.docker.reference.type': 'attestation-manifest',
        },
      }),
    ]);
  });

  // Registered only for the matching mode, so the other modes don't report skipped tests.
  if (auth === 'htpasswd') {
    it('challenges anonymous and wrong-password requests with Basic', async () => {
      const repo = 'harness/basic';
      const image = await pushImage(reg, repo, { platform: linuxAmd64, format: 'oci' });
      for (const authorization of ['', basic(reg.username, 'wrong')]) {
        const headers: Record<string, string> = authorization === '' ? {} : { Authorization: authorization };
        const res = await fetch(`${reg.url}/v2/${repo}/manifests/${image.digest}`, { headers });
        await res.arrayBuffer();
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
      }
      const ok = await getManifest(reg, repo, image.digest, basic(reg.username, reg.password));
      expect(ok.res.status).toBe(200);
    });
  }

  if (auth === 'token') {
    describe('token auth', () => {
      const repo = 'harness/token';
      let digest: string;
      beforeAll(async () => {
        digest = (await pushImage(reg, repo, { platform: linuxAmd64, format: 'docker' })).digest;
      });

      it('challenges with Bearer realm, service and scope', async () => {
        const res = await fetch(`${reg.url}/v2/${repo}/manifests/${digest}`);
        await res.arrayBuffer();
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(
          `Bearer realm="${reg.tokenServer?.url}",service="${TOKEN_SERVICE}",scope="repository:${repo}:pull"`,
        );
      });

      it('grants a token for valid Basic credentials, none for anonymous, 401 for wrong ones', async () => {
        const server = reg.tokenServer;
        if (server === undefined) throw new Error('token mode without token server');
        const tokenUrl = `${server.url}?service=${TOKEN_SERVICE}&scope=${encodeURIComponent(`repository:${repo}:pull`)}`;
        const before = server.requests.length;

        const granted = await fetch(tokenUrl, {
          headers: { Authorization: basic(reg.username, reg.password) },
        });
        expect(granted.status).toBe(200);
        const body = (await granted.json()) as { token: string; access_token: string; expires_in: number };
        expect(body.access_token).toBe(body.token);
        expect((await getManifest(reg, repo, digest, `Bearer ${body.token}`)).res.status).toBe(200);

        const anonymous = (await (await fetch(tokenUrl)).json()) as { token: string };
        expect((await getManifest(reg, repo, digest, `Bearer ${anonymous.token}`)).res.status).toBe(401);

        const wrong = await fetch(tokenUrl, { headers: { Authorization: basic(reg.username, 'nope') } });
        expect(wrong.status).toBe(401);
        expect(await wrong.json()).toEqual({
          errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
        });

        expect(server.requests.slice(before)).toEqual([
          expect.objectContaining({ method: 'GET', scopes: [`repository:${repo}:pull`], authorized: true }),
          expect.objectContaining({ method: 'GET', account: undefined, authorized: false }),
          expect.objectContaining({ method: 'GET', account: reg.username, authorized: false }),
        ]);
      });

      it('supports the OAuth2 password and refresh_token grants', async () => {
        const server = reg.tokenServer;
        if (server === undefined) throw new Error('token mode without token server');
        const post = (form: Record<string, string>) =>
          fetch(server.url, {
            method: 'POST',
            body: new URLSearchParams({ service: TOKEN_SERVICE, ...form }),
          });
        const scope = `repository:${repo}:pull repository:other/repo:pull,push`;

        const passwordRes = await post({
          grant_type: 'password',
          username: reg.username,
          password: reg.password,
          scope,
          client_id: 'harness',
          access_type: 'offline',
        });
        expect(passwordRes.status).toBe(200);
        const first = (await passwordRes.json()) as {
          access_token: string;
          refresh_token?: string;
          scope: string;
        };
        expect(first.scope).toBe(scope);
        expect(first.refresh_token).toEqual(expect.any(String));

        const refreshRes = await post({
          grant_type: 'refresh_token',
          refresh_token: first.refresh_token ?? '',
          scope,
        });
        const second = (await refreshRes.json()) as { access_token: string; refresh_token?: string };
        expect(second.refresh_token).toBeUndefined();
        expect((await getManifest(reg, repo, digest, `Bearer ${second.access_token}`)).res.status).toBe(200);

        expect((await post({ grant_type: 'refresh_token', refresh_token: 'forged', scope })).status).toBe(
          401,
        );
        expect(
          (await post({ grant_type: 'password', username: reg.username, password: 'x', scope })).status,
        ).toBe(401);
      });

      it('rejects minted tokens for another repository and expired ones (after the 60 s leeway)', async () => {
        const server = reg.tokenServer;
        if (server === undefined) throw new Error('token mode without token server');
        const before = server.requests.length;
        const pull = (name: string) => [{ type: 'repository', name, actions: ['pull'] }];

        const other = await getManifest(reg, repo, digest, `Bearer ${server.mint(pull('harness/other'))}`);
        expect([401, 403]).toContain(other.res.status);
        // distribution 2.8 accepts tokens up to 60 s past exp (clock-skew leeway); expiry tests must allow for it.
        const withinLeeway = await getManifest(reg, repo, digest, `Bearer ${server.mint(pull(repo), -30)}`);
        expect(withinLeeway.res.status).toBe(200);
        const expired = await getManifest(reg, repo, digest, `Bearer ${server.mint(pull(repo), -90)}`);
        expect(expired.res.status).toBe(401);
        // Minting and adminAuthorization() make no HTTP requests to the token server.
        expect(server.requests.length).toBe(before);
      });
    });
  }
});

describe('proxy', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('forwards and logs requests, rewriting upload Locations to go through the proxy', async () => {
    const proxy = await startProxy(reg.url);
    try {
      const viaProxy = { url: proxy.url, adminAuthorization: () => reg.adminAuthorization() };
      const image = await pushImage(viaProxy, 'proxied/app', { platform: linuxAmd64, format: 'oci' });
      // Each blob is a POST plus a PUT; had the Location not been rewritten the PUTs would bypass the log.
      expect(proxy.log.map((e) => `${e.method} ${e.status}`)).toEqual([
        'POST 202',
        'PUT 201',
        'POST 202',
        'PUT 201',
        'PUT 201',
      ]);
      expect(proxy.log.at(-1)?.path).toBe(`/v2/proxied/app/manifests/${image.digest}`);

      const head = await fetch(`${proxy.url}/v2/proxied/app/blobs/${image.configDigest}`, {
        method: 'HEAD',
        headers: { Authorization: reg.adminAuthorization() ?? '' },
      });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it('lets a handler replace responses, inspect forwarded ones, or reset the connection', async () => {
    const proxy = await startProxy(reg.url);
    try {
      const authorization = reg.adminAuthorization() ?? '';
      proxy.setHandler(async (req, forward) => {
        if (req.path.includes('/manifests/')) {
          return { status: 503, headers: { 'retry-after': '1' }, body: Buffer.from('try later') };
        }
        if (req.path.includes('/tags/')) return 'reset';
        const real = await forward();
        return { ...real, headers: { ...real.headers, 'x-seen-by-proxy': String(real.status) } };
      });

      const replaced = await fetch(`${proxy.url}/v2/any/manifests/latest`, {
        headers: { Authorization: authorization },
      });
      expect(replaced.status).toBe(503);
      expect(replaced.headers.get('retry-after')).toBe('1');
      expect(await replaced.text()).toBe('try later');

      const inspected = await fetch(`${proxy.url}/v2/`, { headers: { Authorization: authorization } });
      await inspected.arrayBuffer();
      expect(inspected.headers.get('x-seen-by-proxy')).toBe('200');

      await expect(fetch(`${proxy.url}/v2/any/tags/list`)).rejects.toThrow();

      proxy.setHandler(undefined);
      const unauthenticated = await fetch(`${proxy.url}/v2/`);
      await unauthenticated.arrayBuffer();
      expect(unauthenticated.status).toBe(401);
      expect(proxy.log.map((e) => e.status)).toEqual([503, 200, 0, 401]);
    } finally {
      await proxy.close();
    }
  });

  it('adds latency and measures sequential round trips and concurrency', async () => {
    const proxy = await startProxy(reg.url, { latencyMs: 50 });
    try {
      const get = async () => (await fetch(`${proxy.url}/v2/`)).arrayBuffer();
      const started = performance.now();
      await get();
      await get();
      expect(performance.now() - started).toBeGreaterThanOrEqual(100);
      await Promise.all([get(), get(), get()]);
      expect(sequentialRoundTrips(proxy.log)).toBe(3);
      expect(maxConcurrency(proxy.log)).toBe(3);
    } finally {
      await proxy.close();
    }
  });
});

describe('round-trip measures', () => {
  const entry = (start: number, end: number): RequestLogEntry => ({
    method: 'GET',
    path: '/',
    status: 200,
    start,
    end,
  });

  it('counts chains of non-overlapping requests and peak overlap', () => {
    expect(sequentialRoundTrips([])).toBe(0);
    // Two parallel requests, then one after both: two round trips, at most two in flight.
    const log = [entry(0, 10), entry(1, 12), entry(12, 20)];
    expect(sequentialRoundTrips(log)).toBe(2);
    expect(maxConcurrency(log)).toBe(2);
    // A long request alongside a chain of three short ones.
    const mixed = [entry(0, 100), entry(1, 2), entry(3, 4), entry(5, 6)];
    expect(sequentialRoundTrips(mixed)).toBe(3);
    expect(maxConcurrency(mixed)).toBe(2);
  });
});

describe(`the registry binary named by ${REGISTRY_BIN_VARIABLE}`, () => {
  const saved = process.env[REGISTRY_BIN_VARIABLE];
  const dir = mkdtempSync(join(tmpdir(), 'mm-registry-bin-'));
  afterAll(() => {
    if (saved === undefined) delete process.env[REGISTRY_BIN_VARIABLE];
    else process.env[REGISTRY_BIN_VARIABLE] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts under another name and path, as a download or another distribution installs it', async () => {
    // The binary found the usual way, linked under a name no lookup on PATH would find.
    const found = registryBinary();
    const real = found.includes('/') ? found : execFileSync('which', [found], { encoding: 'utf8' }).trim();
    const renamed = join(dir, 'distribution-registry');
    symlinkSync(real, renamed);
    process.env[REGISTRY_BIN_VARIABLE] = renamed;
    expect(registryBinary()).toBe(renamed);
    const reg = await startRegistry();
    try {
      const image = await pushImage(reg, 'harness/renamed', { platform: linuxAmd64, format: 'oci' });
      const { res } = await getManifest(reg, 'harness/renamed', image.digest);
      expect(res.status).toBe(200);
    } finally {
      await reg.stop();
    }
  });

  it('set to nothing that runs: start-up fails naming the variable', async () => {
    process.env[REGISTRY_BIN_VARIABLE] = join(dir, 'missing');
    await expect(startRegistry()).rejects.toThrow(
      `${REGISTRY_BIN_VARIABLE}=${join(dir, 'missing')} is not an executable file`,
    );
  });
});
