import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaos, mulberry32 } from './helpers/chaos.js';
import { MANIFEST_ACCEPT, pushImage, pushManifest, sha256Digest } from './helpers/images.js';
import type { TestProxy } from './helpers/proxy.js';
import {
  startProxiedRegistry,
  stopProxiedRegistry,
  type TestRegistry,
  TOKEN_SERVICE,
} from './helpers/registry.js';

// Proves each chaos stage does what it claims, against the real registry through the proxy, with plain fetch:
// tests that rely on chaos to exercise src/ are only as good as the faults it really injects.

const linuxAmd64 = { os: 'linux', architecture: 'amd64' };
const linuxArm64 = { os: 'linux', architecture: 'arm64' };

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function request(
  baseUrl: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { Accept: MANIFEST_ACCEPT, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function errorCode(answer: Answer): string | undefined {
  return (JSON.parse(answer.body) as { errors: Array<{ code: string }> }).errors[0]?.code;
}

async function sleepUntil(time: number): Promise<void> {
  // Timers run off the event loop's cached clock and can fire a little early by performance.now() under load;
  // a request sent a hair before a lag ends would see the lag.
  while (performance.now() < time) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(time - performance.now())));
  }
}

describe('chaos against an open registry', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  // Pushes that must go through the proxy (and so through chaos).
  let viaProxy: { url: string; adminAuthorization: () => undefined };
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry());
    viaProxy = { url: proxy.url, adminAuthorization: () => undefined };
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  it('hides digests pushed before the run until lagMs has passed, then records when they were found', async () => {
    const repo = 'chaos/hidden';
    const image = await pushImage(reg, repo, { platform: linuxAmd64, format: 'oci', seed: 'hidden' });
    const lagMs = 300;
    const c = chaos({ hidden: { digests: [image.digest, image.configDigest], lagMs } });
    proxy.setHandler(c.handler);

    const manifest = await request(proxy.url, `/v2/${repo}/manifests/${image.digest}`);
    expect(manifest.status).toBe(404);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(manifest.body)).toEqual({
      errors: [
        {
          code: 'MANIFEST_UNKNOWN',
          message: 'manifest unknown',
          detail: { Name: repo, Revision: image.digest },
        },
      ],
    });
    const head = await request(proxy.url, `/v2/${repo}/manifests/${image.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(head.body).toBe('');
    const blob = await request(proxy.url, `/v2/${repo}/blobs/${image.configDigest}`);
    expect(blob.status).toBe(404);
    expect(errorCode(blob)).toBe('BLOB_UNKNOWN');
    // Digests not on the list, and the registry itself, are unaffected.
    expect((await request(proxy.url, `/v2/${repo}/blobs/${image.layerDigests[0]}`)).status).toBe(200);
    expect((await request(reg.url, `/v2/${repo}/manifests/${image.digest}`)).status).toBe(200);
    expect(c.stats.hidden404).toBe(3);
    expect(c.firstSeenAfterHide.size).toBe(0);

    await sleepUntil(c.startedAt + lagMs);
    const found = await request(proxy.url, `/v2/${repo}/manifests/${image.digest}`);
    expect(found.status).toBe(200);
    expect(found.headers.get('docker-content-digest')).toBe(image.digest);
    const seenAt = c.firstSeenAfterHide.get(image.digest);
    expect(seenAt).toBeGreaterThanOrEqual(c.startedAt + lagMs);
    // Only the first sighting counts.
    await request(proxy.url, `/v2/${repo}/manifests/${image.digest}`);
    expect(c.firstSeenAfterHide.get(image.digest)).toBe(seenAt);
    expect(c.firstSeenAfterHide.has(image.configDigest)).toBe(false);
    expect(c.stats.hidden404).toBe(3);
  });

  it('answers 404 for manifests and blobs written through the proxy until writeLagMs after the write', async () => {
    const repo = 'chaos/write-lag';
    const writeLagMs = 300;
    const c = chaos({ writeLagMs });
    proxy.setHandler(c.handler);

    // pushImage PUTs the manifest by digest and each blob with a completing `PUT ...?digest=`.
    const image = await pushImage(viaProxy, repo, { platform: linuxAmd64, format: 'oci', seed: 'write-lag' });
    const writtenBy = performance.now();
    const manifestPath = `/v2/${repo}/manifests/${image.digest}`;
    const blobPath = `/v2/${repo}/blobs/${image.configDigest}`;

    const manifest = await request(proxy.url, manifestPath);
    expect(manifest.status).toBe(404);
    expect(errorCode(manifest)).toBe('MANIFEST_UNKNOWN');
    expect((await request(proxy.url, manifestPath, { method: 'HEAD' })).status).toBe(404);
    const blob = await request(proxy.url, blobPath, { method: 'HEAD' });
    expect(blob.status).toBe(404);
    expect(blob.body).toBe('');
    // The write itself did happen.
    expect((await request(reg.url, manifestPath)).status).toBe(200);
    expect(c.stats.writeLag404).toBe(3);

    await sleepUntil(writtenBy + writeLagMs);
    const later = await request(proxy.url, manifestPath);
    expect(later.status).toBe(200);
    expect(sha256Digest(Buffer.from(later.body))).toBe(image.digest);
    expect((await request(proxy.url, blobPath, { method: 'HEAD' })).status).toBe(200);
    expect(c.stats.writeLag404).toBe(3);
  });

  it('keeps serving what a tag held before a PUT through the proxy for tagLagMs', async () => {
    const repo = 'chaos/tag-lag';
    const a = await pushImage(reg, repo, { platform: linuxAmd64, format: 'oci', seed: 'A', tag: 'stable' });
    const b = await pushImage(reg, repo, { platform: linuxArm64, format: 'docker', seed: 'B' });
    const tagLagMs = 300;
    const c = chaos({ tagLagMs });
    proxy.setHandler(c.handler);

    await pushManifest(viaProxy, repo, 'stable', b.bytes, b.mediaType);
    await pushManifest(viaProxy, repo, 'fresh', b.bytes, b.mediaType);
    const writtenBy = performance.now();

    const stale = await request(proxy.url, `/v2/${repo}/manifests/stable`);
    expect(stale.status).toBe(200);
    expect(stale.headers.get('docker-content-digest')).toBe(a.digest);
    expect(stale.headers.get('content-type')).toBe(a.mediaType);
    expect(sha256Digest(Buffer.from(stale.body))).toBe(a.digest);
    const staleHead = await request(proxy.url, `/v2/${repo}/manifests/stable`, { method: 'HEAD' });
    expect(staleHead.headers.get('docker-content-digest')).toBe(a.digest);
    expect(Number(staleHead.headers.get('content-length'))).toBe(a.size);
    // A tag that did not exist before the PUT still looks absent.
    const absent = await request(proxy.url, `/v2/${repo}/manifests/fresh`);
    expect(absent.status).toBe(404);
    expect(JSON.parse(absent.body)).toEqual({
      errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'fresh' } }],
    });
    // The registry already holds B.
    const direct = await request(reg.url, `/v2/${repo}/manifests/stable`);
    expect(direct.headers.get('docker-content-digest')).toBe(b.digest);
    expect(c.stats.tagLagServed).toBe(3);

    await sleepUntil(writtenBy + tagLagMs);
    for (const tag of ['stable', 'fresh']) {
      const current = await request(proxy.url, `/v2/${repo}/manifests/${tag}`);
      expect(current.status).toBe(200);
      expect(current.headers.get('docker-content-digest')).toBe(b.digest);
      expect(current.headers.get('content-type')).toBe(b.mediaType);
    }
    expect(c.stats.tagLagServed).toBe(3);
  });

  describe('random faults', () => {
    type Outcome = number | 'reset';

    /** 40 sequential requests; a reset shows up as a fetch error. */
    async function sample(seed: number): Promise<{ outcomes: Outcome[]; c: ReturnType<typeof chaos> }> {
      const c = chaos({ faults: { rate: 0.5, seed } });
      proxy.setHandler(c.handler);
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 40; i++) {
        try {
          const answer = await request(proxy.url, '/v2/');
          outcomes.push(answer.status);
          if (answer.status === 429) expect(answer.headers.get('retry-after')).toBe('0');
          if (answer.status === 503) expect(errorCode(answer)).toBe('UNAVAILABLE');
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
          outcomes.push('reset');
        }
      }
      return { outcomes, c };
    }

    it('draws a reproducible fault sequence per seed, and the counts add up', async () => {
      const first = await sample(1);
      const again = await sample(1);
      const other = await sample(2);
      expect(again.outcomes).toEqual(first.outcomes);
      expect(other.outcomes).not.toEqual(first.outcomes);

      for (const { outcomes, c } of [first, again, other]) {
        const count = (outcome: Outcome): number => outcomes.filter((o) => o === outcome).length;
        expect(count(200) + count(429) + count(503) + count('reset')).toBe(40);
        // Exactly one request per fetch: nothing retried a reset behind our back.
        expect(c.stats.requests).toBe(40);
        expect(c.stats.faults).toEqual({ '429': count(429), '503': count(503), reset: count('reset') });
      }
      // At rate 0.5 seed 1 happens to produce every kind; a regression to all-pass or all-fail shows here.
      for (const kind of [200, 429, 503, 'reset'] as const) expect(first.outcomes).toContain(kind);
    });

    it('faults before forwarding, so the registry never sees the request', async () => {
      const repo = 'chaos/faulted';
      const image = await pushImage(reg, repo, { platform: linuxAmd64, format: 'oci', seed: 'faulted' });
      const c = chaos({ faults: { rate: 1, seed: 3, kinds: ['429'], retryAfterSeconds: 2 } });
      proxy.setHandler(c.handler);
      const put = await request(proxy.url, `/v2/${repo}/manifests/faulted`, {
        method: 'PUT',
        headers: { 'Content-Type': image.mediaType },
        body: image.bytes,
      });
      expect(put.status).toBe(429);
      expect(put.headers.get('retry-after')).toBe('2');
      expect((await request(reg.url, `/v2/${repo}/manifests/faulted`)).status).toBe(404);
    });

    it('adds latency to every request', async () => {
      proxy.setHandler(chaos({ latencyMs: 100 }).handler);
      const started = performance.now();
      expect((await request(proxy.url, '/v2/')).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    });

    it('mulberry32 is deterministic per seed and stays in [0, 1)', () => {
      const take = (seed: number) => Array.from({ length: 1000 }, mulberry32(seed));
      expect(take(7)).toEqual(take(7));
      expect(take(7)).not.toEqual(take(8));
      expect(take(7).every((x) => x >= 0 && x < 1)).toBe(true);
    });
  });

  it('rejects the first `times` matching manifest PUTs with MANIFEST_BLOB_UNKNOWN', async () => {
    const repo = 'chaos/blob-unknown';
    const image = await pushImage(reg, repo, { platform: linuxAmd64, format: 'oci', seed: 'blob-unknown' });
    const c = chaos({ putBlobUnknown: { times: 2, match: (path) => path.endsWith('/manifests/release') } });
    proxy.setHandler(c.handler);
    const put = (reference: string) =>
      request(proxy.url, `/v2/${repo}/manifests/${reference}`, {
        method: 'PUT',
        headers: { 'Content-Type': image.mediaType },
        body: image.bytes,
      });

    // Not matched: passes and doesn't use up a rejection.
    expect((await put(image.digest)).status).toBe(201);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const rejected = await put('release');
      expect(rejected.status).toBe(400);
      expect(JSON.parse(rejected.body)).toEqual({
        errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }],
      });
      expect((await request(reg.url, `/v2/${repo}/manifests/release`)).status).toBe(404);
    }
    const third = await put('release');
    expect(third.status).toBe(201);
    expect(third.headers.get('docker-content-digest')).toBe(image.digest);
    expect((await request(reg.url, `/v2/${repo}/manifests/release`)).status).toBe(200);
    expect(c.stats.putBlobUnknown).toBe(2);
  });
});

describe('chaos against a token-auth registry', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry({ auth: 'token' }));
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  it('expires tokens seen before afterMs with the registry challenge; later tokens pass', async () => {
    const repo = 'chaos/tokens';
    const server = reg.tokenServer;
    if (server === undefined) throw new Error('token mode without token server');
    const image = await pushImage(reg, repo, { platform: linuxAmd64, format: 'oci', seed: 'tokens' });
    const fetchToken = async (): Promise<string> => {
      const scope = encodeURIComponent(`repository:${repo}:pull`);
      const res = await fetch(`${server.url}?service=${TOKEN_SERVICE}&scope=${scope}`, {
        headers: {
          Authorization: `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}`,
        },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const manifestPath = `/v2/${repo}/manifests/${image.digest}`;
    const withToken = (token: string, method = 'GET') =>
      request(proxy.url, manifestPath, { method, headers: { Authorization: `Bearer ${token}` } });

    // Fetched before the clock starts, so only one request has to land within afterMs, even on a busy machine.
    const early = await fetchToken();
    const afterMs = 300;
    const c = chaos({ expireTokens: { afterMs } });
    proxy.setHandler(c.handler);
    expect((await withToken(early)).status).toBe(200);

    await sleepUntil(c.startedAt + afterMs);
    const expired = await withToken(early);
    expect(expired.status).toBe(401);
    expect(errorCode(expired)).toBe('UNAUTHORIZED');
    // Exactly what the registry answers for a genuinely expired token (past its 60 s leeway).
    const real = await request(reg.url, manifestPath, {
      headers: {
        Authorization: `Bearer ${server.mint([{ type: 'repository', name: repo, actions: ['pull'] }], -90)}`,
      },
    });
    expect(real.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe(real.headers.get('www-authenticate'));
    expect(expired.headers.get('www-authenticate')).toBe(
      `Bearer realm="${server.url}",service="${TOKEN_SERVICE}",scope="repository:${repo}:pull",error="invalid_token"`,
    );
    const expiredHead = await withToken(early, 'HEAD');
    expect(expiredHead.status).toBe(401);
    expect(expiredHead.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);

    const late = await fetchToken();
    expect((await withToken(late)).status).toBe(200);
    expect((await withToken(late, 'HEAD')).status).toBe(200);
    expect(c.stats.expired401).toBe(2);
  });
});
