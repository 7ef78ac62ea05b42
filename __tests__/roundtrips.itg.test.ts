import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers/action.js';
import { pushSources } from './helpers/fixtures.js';
import { pushBuildxIndex } from './helpers/images.js';
import { makeTempDir, removeTempDir, selfSignedCert } from './helpers/local.js';
import { lockstep } from './helpers/lockstep.js';
import {
  fromHandler,
  personality,
  realmThroughProxy,
  tokenRegistryBehind,
  tokenUrlOf,
} from './helpers/personalities.js';
import {
  type ProxyHandler,
  type RequestLogEntry,
  sequentialRoundTrips,
  startProxy,
  type TestProxy,
} from './helpers/proxy.js';
import {
  startProxiedRegistry,
  startRegistry,
  stopProxiedRegistry,
  type TestRegistry,
} from './helpers/registry.js';
import type { Stage } from './helpers/stages.js';

/**
 * Request counts and sequential round trips of one merge, through a proxy that answers in lockstep rounds
 * (helpers/lockstep.ts): every response is held until the client has gone quiet, then a whole round is released
 * at once, so a request that waits for another answer always lands in a later round, and requests sent
 * together always share one. The count is the depth of the client's request chain, not a timing, so it holds
 * on a busy machine. One image on an open registry takes exactly 4 rounds (source manifests in parallel, configs
 * beside the tag HEADs, the tag PUTs that store the index, the read-back), several images 6 (the sources'
 * content brought into the others, the index stored by digest in every image before any tag moves), and Bearer
 * auth exactly 2 more (the challenge, the one token), for any number of sources up to 64. A change that adds a sequential request fails here
 * (docs/adr/0004-store-by-digest-first.md, docs/adr/0008-one-image-four-rounds.md).
 */

const SIZES = [2, 8, 32, 64] as const;
/** How long the client must stay quiet before a round is released: far above the gaps within one burst, even
 * on a loaded 2-core machine where 64 answers take the client a while to turn into the next requests. */
const QUIET_MS = 250;
const ROUND_TRIPS = 4;
/**
 * Several images on one registry: the other images get the sources' blobs by mount (round 2), then their
 * manifests (3), then the index by digest in every image (4), before any tag moves (5) and the read-back (6).
 * Each of those waits for the one before: the registry refuses a manifest whose blobs or children it lacks.
 */
const SEVERAL_ROUND_TRIPS = 6;
const AUTH_ROUND_TRIPS = 2;

/** What a logged request was: `GET manifest by digest`, `HEAD manifest by tag`, `GET blob`, `GET token`. */
function kind(entry: RequestLogEntry): string {
  const path = entry.path.split('?')[0] ?? '';
  let what = path;
  if (path === '/token') what = 'token';
  else if (/\/manifests\/sha256:[0-9a-f]{64}$/.test(path)) what = 'manifest by digest';
  else if (path.includes('/manifests/')) what = 'manifest by tag';
  else if (path.includes('/blobs/')) what = 'blob';
  return `${entry.method} ${what}${entry.status === 401 ? ' (401)' : ''}`;
}

function tally(log: readonly RequestLogEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of log) counts[kind(entry)] = (counts[kind(entry)] ?? 0) + 1;
  return counts;
}

/** The requests in order, one per line with its round (chain depth), for failure messages. */
function timeline(log: readonly RequestLogEntry[]): string {
  const sorted = [...log].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  const first = sorted[0]?.start ?? 0;
  return sorted
    .map((e, i) => {
      const before = sorted.slice(0, i).map((b, j) => (b.end <= e.start ? (depth[j] ?? 0) : 0));
      depth.push(Math.max(0, ...before) + 1);
      const path = e.path.split('?')[0];
      return `  round ${depth[i]} +${Math.round(e.start - first)} ms ${e.method} ${path} -> ${e.status}`;
    })
    .join('\n');
}

/**
 * The requests of one merge of N sources into one image on an open registry, by kind: N manifest GETs, N config
 * GETs beside the tag GET (whole: the no-shrink check needs what it holds), the tag PUT (which stores the index),
 * the read-back HEAD.
 */
function openRegistryRequests(n: number): Record<string, number> {
  return {
    'GET manifest by digest': n,
    'GET blob': n,
    'GET manifest by tag': 1,
    'HEAD manifest by tag': 1,
    'PUT manifest by tag': 1,
  };
}

function sourceArgs(digests: readonly string[]): string[] {
  return digests.flatMap((digest) => ['--source', digest]);
}

/**
 * Runs the CLI with `args` through the proxy answering in lockstep rounds (`around` puts more in front of the
 * rounds, e.g. a token server) and checks it succeeded; the requests it made, and their timeline for failure
 * messages.
 */
async function measured(
  proxy: TestProxy,
  args: string[],
  options: { stdin?: string; around?: (rounds: Stage) => ProxyHandler } = {},
): Promise<{ log: RequestLogEntry[]; connections: number; story: string }> {
  const rounds = lockstep({ quietMs: QUIET_MS });
  proxy.setHandler(options.around?.(fromHandler(rounds.handler)) ?? rounds.handler);
  const from = proxy.log.length;
  const connectionsBefore = proxy.connections;
  const result = await runCli(args, options.stdin === undefined ? {} : { stdin: options.stdin });
  expect(result.code, result.stderr).toBe(0);
  const log = proxy.log.slice(from);
  return { log, connections: proxy.connections - connectionsBefore, story: `requests:\n${timeline(log)}` };
}

describe('open registry', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry());
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  test('the measure: requests sent together count once, each awaited request once more', async () => {
    proxy.setHandler(lockstep({ quietMs: QUIET_MS }).handler);
    const from = proxy.log.length;
    const ping = async (): Promise<void> => {
      await (await fetch(`${proxy.url}/v2/`)).arrayBuffer();
    };
    await Promise.all(Array.from({ length: 16 }, ping));
    await ping();
    await Promise.all([ping(), ping()]);
    expect(sequentialRoundTrips(proxy.log.slice(from))).toBe(3);
  });

  test.each(SIZES)('N = %i: 2N + 3 requests, 4 sequential round trips, N + 1 connections', async (n) => {
    const repository = `roundtrips/open${n}`;
    const digests = await pushSources(reg, repository, n);

    const { log, connections, story } = await measured(proxy, [
      '--image',
      `${proxy.host}/${repository}`,
      '--tag',
      'v1',
      ...sourceArgs(digests),
    ]);

    expect(tally(log), story).toEqual(openRegistryRequests(n));
    expect(log.length).toBe(2 * n + 3);
    expect(sequentialRoundTrips(log), story).toBe(ROUND_TRIPS);
    // The second round's connections (N configs and the tag HEAD) carry every later round: each request after it
    // reuses the connection of an answer already read (on a TLS registry a new connection costs a handshake).
    expect(connections, story).toBeLessThanOrEqual(n + 1);
  });
  test("moving a tag off another index: what it holds is read in the configs' round when it can", async () => {
    const repository = 'roundtrips/moving';
    const merge = (digests: readonly string[]) => [
      '--image',
      `${proxy.host}/${repository}`,
      '--tag',
      'v1',
      ...sourceArgs(digests),
    ];
    const buildx = (seed: string) =>
      Promise.all(
        ['amd64', 'arm64'].map(async (architecture) => {
          const pushed = await pushBuildxIndex(reg, repository, {
            platform: { os: 'linux', architecture },
            seed,
          });
          return pushed.index.digest;
        }),
      );
    const first = await runCli(merge(await buildx('first')));
    expect(first.code, first.stderr).toBe(0);
    // Index sources: the tag is read beside the images, so the index it holds is read beside their configs, and
    // the platform check costs no round (5, as onto a new tag).
    const moving = await measured(proxy, merge(await buildx('second')));
    expect(sequentialRoundTrips(moving.log), moving.story).toBe(5);
    // Image sources: the tag is read whole (GET) beside the configs, so the index it holds costs no round either
    // (4, as onto a new tag), and is not read again.
    const images = await measured(proxy, merge(await pushSources(reg, repository, 2, 'images')));
    expect(sequentialRoundTrips(images.log), images.story).toBe(ROUND_TRIPS);
    expect(tally(images.log), images.story).toEqual(openRegistryRequests(2));
  });

  test("two buildx index sources: 5 round trips, the images' configs read for their labels in one round", async () => {
    const repository = 'roundtrips/buildx';
    const sources = await Promise.all(
      ['amd64', 'arm64'].map((architecture) =>
        pushBuildxIndex(reg, repository, { platform: { os: 'linux', architecture } }),
      ),
    );
    const { log, story } = await measured(proxy, [
      '--image',
      `${proxy.host}/${repository}`,
      '--tag',
      'v1',
      ...sourceArgs(sources.map((s) => s.index.digest)),
    ]);
    // The indexes; their images (GET) and attestations (HEAD) beside the tag HEAD; the images' configs; the tag
    // PUT; the read-back.
    expect(sequentialRoundTrips(log), story).toBe(5);
    expect(
      log.filter((e) => e.method === 'GET' && e.path.includes('/blobs/')),
      story,
    ).toHaveLength(2);
  });

  test.each([2, 3])(
    'K = %i images on one registry (N = 8): the index stored by digest in every image first',
    async (k) => {
      const repository = `roundtrips/multi${k}`;
      const digests = await pushSources(reg, repository, 8);
      const images = Array.from(
        { length: k },
        (_, i) => `${proxy.host}/${repository}${i === 0 ? '' : `-copy${i}`}`,
      );
      const { log, story } = await measured(proxy, [
        ...images.flatMap((image) => ['--image', image]),
        '--tag',
        'v1',
        ...sourceArgs(digests),
      ]);
      // Blobs are mounted into the other images (never copied through the client), each manifest PUT once there.
      expect(log.filter((e) => e.method === 'GET' && e.path.includes('/blobs/'))).toHaveLength(8);
      expect(log.filter((e) => e.method === 'POST' && e.path.includes('mount='))).toHaveLength(16 * (k - 1));
      // Each copy gets the 8 platform manifests; every image gets the index by digest before its tag.
      const byDigest = log.filter((e) => kind(e) === 'PUT manifest by digest');
      expect(byDigest, story).toHaveLength(8 * (k - 1) + k);
      expect(sequentialRoundTrips(log), story).toBe(SEVERAL_ROUND_TRIPS);
    },
  );
});

describe('token auth registry', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry({ auth: 'token' }));
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  /** The CLI merging `sources` into `repository:v1` with the registry's credentials, counted in lockstep. */
  const mergeWithToken = (repository: string, sources: string[]) =>
    measured(
      proxy,
      [
        '--image',
        `${proxy.host}/${repository}`,
        '--tag',
        'v1',
        ...sources,
        '--username',
        reg.username,
        '--password-stdin',
      ],
      {
        stdin: `${reg.password}\n`,
        // The token server answers behind the same proxy, so the token request is in the log and its rounds.
        around: (rounds) => tokenRegistryBehind(reg, proxy, rounds),
      },
    );

  test.each(SIZES)('N = %i: one token, 4 + 2 sequential round trips', async (n) => {
    const repository = `roundtrips/token${n}`;
    const digests = await pushSources(reg, repository, n);
    const tokensBefore = reg.tokenServer?.requests.length ?? 0;

    const { log, story } = await mergeWithToken(repository, sourceArgs(digests));

    expect((reg.tokenServer?.requests.length ?? 0) - tokensBefore, story).toBe(1);
    const counts = tally(log);
    expect(counts['GET token'], story).toBe(1);
    // Once authorized, the same requests as on an open registry.
    const authorized = log.filter((e) => e.status !== 401 && kind(e) !== 'GET token');
    expect(tally(authorized), story).toEqual(openRegistryRequests(n));
    // Challenges come only from the first round, at most one per request in it.
    expect(log.filter((e) => e.status === 401).length, story).toBeLessThanOrEqual(n + 1);
    expect(sequentialRoundTrips(log), story).toBe(ROUND_TRIPS + AUTH_ROUND_TRIPS);
  });

  test('a source in another repository adds its scope to the one token, asked for on the first challenge', async () => {
    const repository = 'roundtrips/token-target';
    const other = 'roundtrips/token-other';
    const [own, foreign] = await Promise.all([
      pushSources(reg, repository, 2),
      pushSources(reg, other, 3, 'token-other'),
    ]);
    const tokensBefore = reg.tokenServer?.requests.length ?? 0;

    const { log, story } = await mergeWithToken(repository, [
      ...sourceArgs(own.slice(0, 1)),
      '--source',
      `${proxy.host}/${other}@${foreign[2]}`,
    ]);

    const tokens = (reg.tokenServer?.requests ?? []).slice(tokensBefore);
    expect(tokens, story).toHaveLength(1);
    expect(new Set(tokens[0]?.scopes), story).toEqual(
      new Set([`repository:${repository}:pull,push`, `repository:${other}:pull`]),
    );
    // The token is asked for in the round right after the first challenge: round 2 of the requests up to it.
    const token = log.find((e) => kind(e) === 'GET token');
    const upToToken = log.filter((e) => token !== undefined && e.start <= token.start);
    expect(sequentialRoundTrips(upToToken), story).toBe(2);
  });
});

describe('TLS registry with Bearer tokens, the token server behind a TLS front of its own', () => {
  let reg: TestRegistry;
  let front: TestProxy;
  let tokens: TestProxy;
  let dir: string;
  let caPath: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' });
    dir = await makeTempDir('manifest-merge-roundtrips-tls-');
    const cert = await selfSignedCert(dir, '/CN=127.0.0.1', ['subjectAltName=IP:127.0.0.1']);
    caPath = cert.certPath;
    tokens = await startProxy(new URL(tokenUrlOf(reg)).origin, { tls: cert });
    front = await startProxy(reg.url, { tls: cert });
  });
  afterAll(async () => {
    await front?.close();
    await tokens?.close();
    await reg?.stop();
    if (dir) await removeTempDir(dir);
  });

  test.each([8, 32])(
    'N = %i: 4 + 2 rounds across both fronts, one token, N + 1 TLS handshakes with the registry and 1 with the token server',
    async (n) => {
      const repository = `roundtrips/tls${n}`;
      const digests = await pushSources(reg, repository, n);
      // Both fronts answer in the same lockstep rounds; challenges name the token front as realm.
      const rounds = lockstep({ quietMs: QUIET_MS });
      front.setHandler(
        personality(
          realmThroughProxy(tokenUrlOf(reg), () => tokens.url),
          fromHandler(rounds.handler),
        ),
      );
      tokens.setHandler(rounds.handler);
      const from = { front: front.log.length, tokens: tokens.log.length };
      const accepted = { front: front.connections, tokens: tokens.connections };

      const result = await runCli(
        [
          '--image',
          `${front.host}/${repository}`,
          '--tag',
          'v1',
          ...sourceArgs(digests),
          '--plain-http',
          'false',
          '--username',
          reg.username,
          '--password-stdin',
        ],
        { stdin: `${reg.password}\n`, env: { NODE_EXTRA_CA_CERTS: caPath } },
      );

      expect(result.code, result.stderr).toBe(0);
      const tokenLog = tokens.log.slice(from.tokens);
      const log = [...front.log.slice(from.front), ...tokenLog];
      const story = `requests:\n${timeline(log)}`;
      expect(
        tokenLog.map((e) => e.method),
        story,
      ).toEqual(['GET']);
      expect(sequentialRoundTrips(log), story).toBe(ROUND_TRIPS + AUTH_ROUND_TRIPS);
      // Each connection is a TLS handshake: the challenge round's N, one more for the tag HEAD beside the
      // configs, then reused to the end; one to the token server.
      expect(front.connections - accepted.front, story).toBeLessThanOrEqual(n + 1);
      expect(tokens.connections - accepted.tokens, story).toBe(1);
    },
  );
});
