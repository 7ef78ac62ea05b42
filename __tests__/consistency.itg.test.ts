import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../src/clock.js';
import type { Credential } from '../src/registry/auth.js';
import type { Result } from '../src/result.js';
import { run } from '../src/run.js';
import { runAction } from './helpers/action.js';
import { chaos } from './helpers/chaos.js';
import { clientFor, recordingLogger } from './helpers/client.js';
import { fetchManifest, type PushedImage, pushImages, served, sourcesOf } from './helpers/images.js';
import { inputsFrom } from './helpers/inputs.js';
import type { TestProxy } from './helpers/proxy.js';
import { startProxiedRegistry, stopProxiedRegistry, type TestRegistry } from './helpers/registry.js';

const ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x'];

/** Prints a measured figure so CI logs show what each test saw. */
function figure(name: string, value: string): void {
  console.log(`figure: ${name}: ${value}`);
}

function pushSet(
  reg: TestRegistry,
  repo: string,
  seed: string,
  count = ARCHES.length,
): Promise<PushedImage[]> {
  return pushImages(reg, repo, { architectures: ARCHES.slice(0, count), seed });
}

/** Runs the core in-process against `host`, with a real client, as the action would. */
async function merge(
  host: string,
  repo: string,
  raw: Record<string, string>,
  options: { credential?: Credential; log?: ReturnType<typeof recordingLogger> } = {},
): Promise<Result> {
  const log = options.log ?? recordingLogger();
  const client = clientFor({ log, ...(options.credential ? { credential: options.credential } : {}) });
  try {
    return await run(inputsFrom({ image: `${host}/${repo}`, 'wait-timeout': '30s', ...raw }), {
      client,
      log,
      clock: systemClock,
    });
  } finally {
    await client.close();
  }
}

describe('open registry behind a chaos proxy', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry());
  });
  afterEach(() => proxy.setHandler(undefined));
  afterAll(() => stopProxiedRegistry(reg, proxy));

  test('every source hidden 3 s: success, the index PUT only after the last source appeared', async () => {
    const repo = 'chaos/hidden';
    const images = await pushSet(reg, repo, 'hidden');
    const lagMs = 3_000;
    const c = chaos({ hidden: { digests: images.map((i) => i.digest), lagMs } });
    proxy.setHandler(c.handler);
    const log = recordingLogger();
    const from = proxy.log.length;
    const result = await merge(proxy.host, repo, { tags: 'hidden', sources: sourcesOf(images) }, { log });
    const ended = performance.now();
    const appeared = c.startedAt + lagMs;
    const firstPut = proxy.log.slice(from).find((entry) => entry.method === 'PUT');
    if (!firstPut) throw new Error('no PUT seen');
    const noticedMs = firstPut.start - appeared;
    const publishMs = ended - firstPut.start;
    figure('hidden 3 s: from the last source appearing to the index PUT', `${Math.round(noticedMs)} ms`);
    figure('hidden 3 s: publish (PUT, read-back)', `${Math.round(publishMs)} ms`);
    expect(result.written).toBe(true);
    expect(await served(reg, repo, 'hidden')).toBe(result.digest);
    expect(c.stats.hidden404).toBeGreaterThan(images.length);
    // How soon it is noticed is a timing, measured in the benchmark; here only the order is asserted.
    expect(noticedMs).toBeGreaterThanOrEqual(0);
    // Polling used HEAD, not GET (GETs count against pull limits on Docker Hub): one GET per source, the first
    // read. (The new tag's one read, a GET for the no-shrink check, is not a poll.)
    const polls = proxy.log
      .slice(from)
      .filter((e) => e.status === 404 && e.path.includes('/manifests/sha256:'));
    expect(polls.filter((e) => e.method === 'GET')).toHaveLength(images.length);
    expect(log.lines.some((line) => /still waiting after \d s of \d+ s for 4 digests/.test(line))).toBe(true);
  });

  test('tag lag 2 s: success with every tag verified', async () => {
    const repo = 'chaos/taglag';
    const old = await pushSet(reg, repo, 'old', 2);
    const before = await merge(reg.host, repo, { tags: 'a,b', sources: sourcesOf(old) });
    const images = await pushSet(reg, repo, 'new', 2);
    const lagMs = 2_000;
    const c = chaos({ tagLagMs: lagMs });
    proxy.setHandler(c.handler);
    const started = performance.now();
    const result = await merge(proxy.host, repo, { tags: 'a,b', sources: sourcesOf(images) });
    const took = performance.now() - started;
    figure('tag lag 2 s: run time', `${Math.round(took)} ms (stale tag answers: ${c.stats.tagLagServed})`);
    expect(result.digest).not.toBe(before.digest);
    expect(result.images[0]?.moved).toEqual(['a', 'b']);
    expect(c.stats.tagLagServed).toBeGreaterThan(0);
    expect(took).toBeGreaterThanOrEqual(lagMs);
    expect(await served(reg, repo, 'a')).toBe(result.digest);
    expect(await served(reg, repo, 'b')).toBe(result.digest);
  });

  test('20 % of requests answered 429, 503 or reset: 20 runs of 20 succeed with the same digest', async () => {
    const repo = 'chaos/faults';
    const images = await pushSet(reg, repo, 'faults');
    const digests = new Set<string>();
    let faults = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const c = chaos({ faults: { rate: 0.2, seed } });
      proxy.setHandler(c.handler);
      const result = await merge(proxy.host, repo, { tags: 'faults', sources: sourcesOf(images) });
      digests.add(result.digest);
      faults += c.stats.faults['429'] + c.stats.faults['503'] + c.stats.faults.reset;
    }
    figure('20 % faults: runs that succeeded', `20 of 20, ${faults} faults injected`);
    expect(digests.size).toBe(1);
    expect(faults).toBeGreaterThan(20);
    expect(await served(reg, repo, 'faults')).toBe([...digests][0]);
  });

  test('an index PUT refused with MANIFEST_BLOB_UNKNOWN twice, then accepted: success', async () => {
    const repo = 'chaos/blobunknown';
    const images = await pushSet(reg, repo, 'bu', 2);
    const c = chaos({ putBlobUnknown: { times: 2 } });
    proxy.setHandler(c.handler);
    const result = await merge(proxy.host, repo, { tags: 'v1', sources: sourcesOf(images) });
    figure('MANIFEST_BLOB_UNKNOWN answers retried', String(c.stats.putBlobUnknown));
    expect(c.stats.putBlobUnknown).toBe(2);
    expect(result.written).toBe(true);
    expect(await served(reg, repo, 'v1')).toBe(result.digest);
  });

  test('a source that never appears: exit 1 after wait-timeout, naming it; the tag is untouched', async () => {
    const repo = 'chaos/never';
    const images = await pushSet(reg, repo, 'never', 2);
    const before = await merge(reg.host, repo, { tags: 'v1', sources: sourcesOf(images) });
    const more = await pushSet(reg, repo, 'never-2', 2);
    const missing = more[1]?.digest ?? '';
    proxy.setHandler(chaos({ hidden: { digests: [missing], lagMs: 600_000 } }).handler);
    const started = performance.now();
    const result = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'v1',
      sources: sourcesOf(more),
      'wait-timeout': '2s',
    });
    const took = performance.now() - started;
    figure('never-appearing source: exit after', `${Math.round(took)} ms with wait-timeout 2s`);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`::error::.*${missing}.*wait-timeout`));
    expect(took).toBeGreaterThanOrEqual(2_000);
    expect(await served(reg, repo, 'v1')).toBe(before.digest);
  });

  test('the race: two runs with different sources on one tag', async () => {
    const repo = 'chaos/race';
    const [a, b] = await Promise.all([pushSet(reg, repo, 'race-a', 2), pushSet(reg, repo, 'race-b', 2)]);
    // "At once": the two tag PUTs overlap. The proxy holds each until both runs have sent theirs, and answers
    // neither until the registry has taken both, so each run's read-back follows both writes.
    const barrier = () => {
      let open: () => void = () => {};
      const passed = new Promise<void>((resolve) => {
        open = resolve;
      });
      let count = 0;
      return async () => {
        count += 1;
        if (count === 2) open();
        await passed;
      };
    };
    const bothSent = barrier();
    const bothWritten = barrier();
    proxy.setHandler(async (req, forward) => {
      if (req.method !== 'PUT' || !req.path.endsWith('/manifests/shared')) return forward();
      await bothSent();
      const response = await forward();
      await bothWritten();
      return response;
    });
    const outcomes = await Promise.allSettled([
      merge(proxy.host, repo, { tags: 'shared', sources: sourcesOf(a ?? []) }),
      merge(proxy.host, repo, { tags: 'shared', sources: sourcesOf(b ?? []) }),
    ]);
    const final = await served(reg, repo, 'shared');
    const fulfilled = outcomes.filter((o): o is PromiseFulfilledResult<Result> => o.status === 'fulfilled');
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    figure(
      'race: outcome',
      `${fulfilled.length} succeeded, ${rejected.length} failed: ${rejected.map((r) => String(r.reason?.message)).join(' | ')}`,
    );
    // The tag holds one whole index: the winner's.
    expect(fulfilled).toHaveLength(1);
    expect(final).toBe(fulfilled[0]?.value.digest);
    expect(rejected).toHaveLength(1);
    expect(String(rejected[0]?.reason?.message)).toContain(`was replaced by ${final}`);
    const index = (await fetchManifest(reg, repo, 'shared')).json as { manifests: { digest: string }[] };
    const winner = fulfilled[0]?.value.platformDigests ?? {};
    expect(index.manifests.map((m) => m.digest).sort()).toEqual(Object.values(winner).sort());
  });

  test('the race: two runs with the same sources both succeed with the same digest', async () => {
    const repo = 'chaos/same';
    const images = await pushSet(reg, repo, 'same', 3);
    const [x, y] = await Promise.all([
      merge(reg.host, repo, { tags: 'shared', sources: sourcesOf(images) }),
      merge(reg.host, repo, { tags: 'shared', sources: sourcesOf([...images].reverse()) }),
    ]);
    expect(x.digest).toBe(y.digest);
    expect(await served(reg, repo, 'shared')).toBe(x.digest);
  });
});

describe('credentials under faults', () => {
  test('a wrong password: exit 1 at once, no retries', async () => {
    const { reg, proxy } = await startProxiedRegistry({ auth: 'htpasswd' });
    try {
      const images = await pushSet(reg, 'auth/app', 'auth', 2);
      const started = performance.now();
      const result = await runAction({
        image: `${proxy.host}/auth/app`,
        tags: 'v1',
        sources: sourcesOf(images),
        username: reg.username,
        password: 'definitely-wrong-1234',
      });
      const took = performance.now() - started;
      const requests = proxy.log.map((e) => `${e.method} ${e.path}`);
      figure('wrong password: exit after', `${Math.round(took)} ms, ${requests.length} requests`);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`Authentication failed for ${proxy.host}`);
      // `::add-mask::` is how the runner learns what to mask; no other line may carry the password.
      const printed = `${result.stdout}\n${result.stderr}`
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'));
      expect(printed.join('\n')).not.toContain('definitely-wrong-1234');
      expect(result.stdout).toContain('::add-mask::definitely-wrong-1234');
      // Each request went out once anonymously and once with the password: never retried.
      const counts = new Map<string, number>();
      for (const r of requests) counts.set(r, (counts.get(r) ?? 0) + 1);
      expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
      expect(proxy.log.every((e) => e.status === 401)).toBe(true);
    } finally {
      await stopProxiedRegistry(reg, proxy);
    }
  });

  test('a token that expires mid-run is renewed once and the run succeeds', async () => {
    const { reg, proxy } = await startProxiedRegistry({ auth: 'token' });
    try {
      const repo = 'auth/expiring';
      const images = await pushSet(reg, repo, 'expiring', 2);
      const server = reg.tokenServer;
      if (!server) throw new Error('token server missing');
      // One source hidden for a while keeps the run polling past the moment its first token (got for the
      // other source) expires.
      const c = chaos({
        hidden: { digests: images.slice(1).map((i) => i.digest), lagMs: 900 },
        expireTokens: { afterMs: 400 },
      });
      proxy.setHandler(c.handler);
      const before = server.requests.length;
      const result = await merge(
        proxy.host,
        repo,
        { tags: 'v1', sources: sourcesOf(images) },
        {
          credential: { kind: 'basic', username: reg.username, password: reg.password },
        },
      );
      const tokens = server.requests.length - before;
      figure('token expiry: token requests', `${tokens} (expired answers: ${c.stats.expired401})`);
      expect(result.written).toBe(true);
      expect(c.stats.expired401).toBeGreaterThan(0);
      expect(tokens).toBe(2);
    } finally {
      await stopProxiedRegistry(reg, proxy);
    }
  });
});
