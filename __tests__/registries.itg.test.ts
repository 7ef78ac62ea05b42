import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ActionResult, errorLine, FAST, runAction } from './helpers/action.js';
import { chaos } from './helpers/chaos.js';
import {
  type PushedImage,
  pushBuildxIndex,
  pushImage,
  pushImages,
  served,
  sha256Digest,
  sourcesOf,
} from './helpers/images.js';
import {
  accessTokenOnly,
  bodyLimit,
  childManifestLag,
  chunkMinLength,
  countsPulls,
  ecrBasicChallenge,
  fromHandler,
  headAsJson,
  headWithoutDigest,
  IMMUTABLE_FLAVOURS,
  type ImmutableFlavour,
  identityTokenAsPassword,
  immutableTags,
  insufficientScope,
  manifestHeadNotAllowed,
  mountOpensUpload,
  mountRefusedNotFound,
  mountRefusedUnauthorized,
  oauthPostRefused,
  personality,
  pullLimitExhausted,
  putStatus,
  throttledAtFirst,
  tokenRegistryBehind,
  tokenUrlOf,
} from './helpers/personalities.js';
import type { RequestLogEntry, TestProxy } from './helpers/proxy.js';
import {
  type ProxiedRegistry,
  startProxiedRegistry,
  startRegistry,
  stopProxiedRegistry,
  type TestRegistry,
} from './helpers/registry.js';
import type { Stage } from './helpers/stages.js';

/**
 * SPEC Guarantee 8: the bundled action, run through the test proxy's registry personalities (helpers/
 * personalities.ts) in front of a real distribution registry, copes with what GHCR, Docker Hub, ECR, ACR, Quay,
 * Harbor, GitLab, Artifactory and zot answer. Each test checks the run's outcome, the message where it fails,
 * what the registry holds afterwards (read straight from it, not through the proxy) and the requests made.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** What the run printed, for failure messages. */
function output(result: ActionResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

const pathOf = (entry: RequestLogEntry): string => entry.path.split('?')[0] ?? '';
const queryOf = (entry: RequestLogEntry): URLSearchParams =>
  new URLSearchParams(entry.path.split('?')[1] ?? '');
const isMountPost = (e: RequestLogEntry): boolean => e.method === 'POST' && queryOf(e).has('mount');
const isUploadStart = (e: RequestLogEntry): boolean =>
  e.method === 'POST' && /\/blobs\/uploads\/?$/.test(pathOf(e)) && !queryOf(e).has('mount');
const isUploadSession = (e: RequestLogEntry): boolean => /\/blobs\/uploads\/[^/]+$/.test(pathOf(e));
const isTagPut = (repo: string, tag: string) => (e: RequestLogEntry) =>
  e.method === 'PUT' && pathOf(e) === `/v2/${repo}/manifests/${tag}`;
const deletes = (log: readonly RequestLogEntry[]) => log.filter((e) => e.method === 'DELETE');
const uploadPuts = (log: readonly RequestLogEntry[]) =>
  log.filter((e) => e.method === 'PUT' && isUploadSession(e));
/** Whether every one of `entries` (none counts too) was answered `status`. */
const allAnswered = (entries: readonly RequestLogEntry[], status: number): boolean =>
  entries.every((e) => e.status === status);

/** The requests in order, for failure messages. */
function story(log: readonly RequestLogEntry[]): string {
  return `requests:\n${log.map((e) => `  ${e.method} ${e.path} -> ${e.status}`).join('\n')}`;
}

/** Runs the action against the proxy with `handler`, returning the result and the requests it made. */
async function through(
  proxy: TestProxy,
  handler: Parameters<TestProxy['setHandler']>[0],
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<{ result: ActionResult; log: RequestLogEntry[] }> {
  proxy.setHandler(handler);
  const from = proxy.log.length;
  try {
    const result = await runAction(inputs, env);
    return { result, log: proxy.log.slice(from) };
  } finally {
    proxy.setHandler(undefined);
  }
}

/**
 * Pushes two images (seeded with `seed`) to `repo` in the registry, then runs the action through the proxy with
 * `handler` to merge them by digest into `<proxy>/<repo>:v1`; `inputs` add to (or override) the action's inputs.
 */
async function mergeTwo(
  { reg, proxy }: ProxiedRegistry,
  repo: string,
  seed: string,
  handler: Parameters<TestProxy['setHandler']>[0],
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<{ images: PushedImage[]; result: ActionResult; log: RequestLogEntry[] }> {
  const images = await pushImages(reg, repo, { seed });
  const inputsOfRun = { image: `${proxy.host}/${repo}`, tags: 'v1', sources: sourcesOf(images), ...inputs };
  const run = await through(proxy, handler, inputsOfRun, env);
  return { images, ...run };
}

/** The run succeeded, and `repo:v1` serves the digest it output (read from the registry itself). */
async function expectMerged(reg: TestRegistry, repo: string, result: ActionResult): Promise<void> {
  expect(result.code, output(result)).toBe(0);
  expect(await served(reg, repo, 'v1')).toBe(result.outputs['digest']);
}

/** An image held at `repo:v1` before the run, for runs that must leave the tag alone. */
function pushHeld(reg: TestRegistry, repo: string, seed: string): Promise<PushedImage> {
  return pushImage(reg, repo, {
    platform: { os: 'linux', architecture: 'amd64' },
    format: 'oci',
    seed,
    tag: 'v1',
  });
}

// ---- 1. cross-repository mount answers ----

describe('cross-repository mount answers (token registry)', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  let images: PushedImage[];
  const src = 'team-a/src';

  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry({ auth: 'token' }));
    images = await pushImages(reg, src, { seed: 'mount' });
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  const blobs = (): Set<string> => new Set(images.flatMap((i) => [i.configDigest, ...i.layerDigests]));

  /** Merges the sources (in `src`) into `dst:v1` with `stage`, checks that it did, and returns its requests. */
  async function merge(dst: string, stage: Stage) {
    const { result, log } = await through(proxy, tokenRegistryBehind(reg, proxy, stage), {
      image: `${proxy.host}/${dst}`,
      tags: 'v1',
      sources: images.map((i) => `${proxy.host}/${src}@${i.digest}`).join('\n'),
      username: reg.username,
      password: reg.password,
    });
    await expectMerged(reg, dst, result);
    return { log, mounts: log.filter(isMountPost), s: story(log) };
  }

  test('202 (GHCR across orgs, ECR without mounting, Quay without access): the opened upload is finished, never cancelled', async () => {
    const dst = 'team-b/accepted';
    const stage = mountOpensUpload();
    const { log, mounts, s } = await merge(dst, stage);
    expect(await served(reg, dst, images[0]?.digest ?? '')).toBe(images[0]?.digest);

    expect(new Set(mounts.map((e) => queryOf(e).get('mount'))), s).toEqual(blobs());
    expect(allAnswered(mounts, 202)).toBe(true);
    // Each upload the registry opened is finished with one PUT to its Location, and no other is opened.
    expect(log.filter(isUploadStart), s).toEqual([]);
    expect(deletes(log), s).toEqual([]);
    const puts = uploadPuts(log);
    expect(allAnswered(puts, 201), s).toBe(true);
    const opened = stage.opened.map((location) => new URL(location, proxy.url).pathname);
    expect(opened).toHaveLength(blobs().size);
    expect(puts.map(pathOf).sort(), s).toEqual([...opened].sort());
  });

  test('401 UNAUTHORIZED "project … not found" (Harbor): uploaded without mount, a plain POST then a PUT', async () => {
    const dst = 'team-c/harbor';
    const stage = mountRefusedUnauthorized();
    const { log, mounts, s } = await merge(dst, stage);

    expect(new Set(mounts.map((e) => queryOf(e).get('mount'))), s).toEqual(blobs());
    expect(allAnswered(mounts, 401), s).toBe(true);
    expect(stage.refused).toBe(mounts.length);
    // At most one more try per mount, after the challenge that came with the 401.
    expect(mounts.length, s).toBeLessThanOrEqual(2 * blobs().size);
    expectPlainUploads(log, blobs().size);
  });

  test('404 (GitLab-like): uploaded without mount, a plain POST then a PUT', async () => {
    const dst = 'team-d/gitlab';
    const stage = mountRefusedNotFound();
    const { log, mounts, s } = await merge(dst, stage);

    expect(mounts.map((e) => queryOf(e).get('mount')).sort(), s).toEqual([...blobs()].sort());
    expect(allAnswered(mounts, 404), s).toBe(true);
    expect(stage.refused).toBe(mounts.length);
    expectPlainUploads(log, blobs().size);
  });

  function expectPlainUploads(log: RequestLogEntry[], count: number): void {
    const s = story(log);
    const starts = log.filter(isUploadStart);
    expect(starts, s).toHaveLength(count);
    expect(allAnswered(starts, 202), s).toBe(true);
    const puts = uploadPuts(log);
    expect(puts, s).toHaveLength(count);
    expect(allAnswered(puts, 201), s).toBe(true);
    expect(deletes(log), s).toEqual([]);
  }
});

// ---- 2. immutable tags ----

describe('immutable tags, every flavour', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry());
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  const FLAVOURS = Object.keys(IMMUTABLE_FLAVOURS) as ImmutableFlavour[];

  test.each(FLAVOURS)(
    '%s: the first tag PUT lands but its answer is lost; the retry is refused, the tag read, and the run succeeds',
    async (flavour) => {
      const repo = `immutable/${flavour}`;
      const stage = immutableTags(flavour, { loseFirstAnswer: true });
      const { result, log } = await mergeTwo({ reg, proxy }, repo, flavour, personality(stage));
      await expectMerged(reg, repo, result);
      expect(result.outputs['written']).toBe('true');
      expect(JSON.parse(result.outputs['tags'] ?? '[]')).toEqual([`${proxy.host}/${repo}:v1`]);

      const { status } = IMMUTABLE_FLAVOURS[flavour](repo, 'v1');
      const tagPuts = log.filter(isTagPut(repo, 'v1'));
      expect(
        tagPuts.map((e) => e.status),
        story(log),
      ).toEqual([0, status]);
      expect(stage.lost).toBe(1);
      expect(stage.refused).toBe(1);
    },
  );

  test.each(FLAVOURS)(
    '%s: a tag at another digest is refused, explained as immutable or protected, and left as it was',
    async (flavour) => {
      const repo = `immutable/${flavour}-held`;
      const held = await pushHeld(reg, repo, `${flavour}-held`);
      const stage = immutableTags(flavour);
      const { result, log } = await mergeTwo({ reg, proxy }, repo, flavour, personality(stage));
      expect(result.code, output(result)).toBe(1);
      const error = errorLine(result);
      const { status, error: refusal } = IMMUTABLE_FLAVOURS[flavour](repo, 'v1');
      expect(error).toContain(`${proxy.host}/${repo}:v1`);
      expect(error).toContain(`${status}`);
      expect(error).toContain(refusal.code);
      expect(error).toContain('immutable or protected');
      expect(await served(reg, repo, 'v1')).toBe(held.digest);
      // No tag PUT stored the index, so it was stored by digest afterwards: `ref` resolves.
      const digest = result.outputs['digest'] ?? '';
      expect(result.outputs['ref']).toBe(`${proxy.host}/${repo}@${digest}`);
      expect(await served(reg, repo, digest)).toBe(digest);
      // One refusal, not retried: the registry's answer is final.
      expect(
        log.filter(isTagPut(repo, 'v1')).map((e) => e.status),
        story(log),
      ).toEqual([status]);
      expect(stage.refused).toBe(1);
    },
  );
});

// ---- 3, 4. token auth answers ----

describe('token registries: insufficient_scope and token endpoint variants', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry({ auth: 'token' }));
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  const credentials = () => ({ username: reg.username, password: reg.password });
  const tokenGets = (log: RequestLogEntry[]) =>
    log.filter((e) => e.method === 'GET' && pathOf(e) === new URL(tokenUrlOf(reg)).pathname);

  test(
    'insufficient_scope on every PUT: the credentials cannot push there (not "check the password"); no tag moves',
    async () => {
      const repo = 'scope/app';
      const held = await pushHeld(reg, repo, 'scope-held');
      const stage = insufficientScope();
      const handler = tokenRegistryBehind(reg, proxy, stage);
      const inputs = { tags: 'v1,v2', ...credentials() };
      const { result, log } = await mergeTwo({ reg, proxy }, repo, 'scope', handler, inputs);
      expect(result.code, output(result)).toBe(1);
      const error = errorLine(result);
      expect(error).toContain(`cannot push to ${proxy.host}/${repo}, or the repository does not exist`);
      expect(error).not.toContain('check the username and password');
      expect(await served(reg, repo, 'v1')).toBe(held.digest);
      expect(await served(reg, repo, 'v2')).toBeNull();
      const puts = log.filter((e) => e.method === 'PUT');
      expect(puts.length, story(log)).toBeGreaterThan(0);
      // Each tag PUT, then the index by digest (no tag stored it), each once more with a fresh token at most.
      expect(puts.length, story(log)).toBeLessThanOrEqual(2 * 3);
      expect(allAnswered(puts, 401)).toBe(true);
      expect(stage.refused).toBe(puts.length);
    },
    FAST,
  );

  test('a token answer with `access_token` only (GHCR, Quay): the run succeeds', async () => {
    const repo = 'access-token/app';
    const stage = accessTokenOnly(tokenUrlOf(reg));
    const handler = tokenRegistryBehind(reg, proxy, stage);
    const { result, log } = await mergeTwo({ reg, proxy }, repo, 'access-token', handler, credentials());
    await expectMerged(reg, repo, result);
    expect(stage.rewritten, story(log)).toBeGreaterThan(0);
    expect(allAnswered(tokenGets(log), 200)).toBe(true);
  });

  test.each([
    [400, 'Azure ACR'],
    [401, 'JFrog Artifactory'],
  ] as const)(
    'an identity token whose OAuth POST is answered %i (%s) is sent with GET as the password of <token>',
    async (status, _registry) => {
      const repo = `identity-${status}/app`;
      const identityToken = `idt-${randomBytes(12).toString('hex')}`;
      const dir = mkdtempSync(join(tmpdir(), 'mm-docker-'));
      dirs.push(dir);
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({ auths: { [proxy.host]: { identitytoken: identityToken } } }),
      );
      const tokenUrl = tokenUrlOf(reg);
      const refused = oauthPostRefused(status, tokenUrl);
      const acr = identityTokenAsPassword(tokenUrl, identityToken, credentials());
      const before = reg.tokenServer?.requests.length ?? 0;
      const handler = tokenRegistryBehind(reg, proxy, refused, acr);
      const env = { DOCKER_CONFIG: dir };
      const { result, log } = await mergeTwo({ reg, proxy }, repo, `identity-${status}`, handler, {}, env);
      await expectMerged(reg, repo, result);

      const s = story(log);
      const posts = log.filter((e) => e.method === 'POST' && pathOf(e) === new URL(tokenUrl).pathname);
      expect(posts.length, s).toBeGreaterThan(0);
      expect(allAnswered(posts, status), s).toBe(true);
      expect(refused.refused).toBe(posts.length);
      // Each refused POST is followed by a GET with Basic `<token>:<identity token>`.
      const gets = tokenGets(log);
      expect(gets.length, s).toBe(posts.length);
      expect(allAnswered(gets, 200), s).toBe(true);
      expect(acr.users).toEqual(gets.map(() => '<token>'));
      expect(acr.swapped).toBe(gets.length);
      const asked = reg.tokenServer?.requests.slice(before) ?? [];
      expect(asked.every((r) => r.method === 'GET' && r.authorized)).toBe(true);
      // The identity token is masked wherever it could show.
      const visible = result.stdout
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n');
      expect(`${visible}${result.stderr}${result.summary}`).not.toContain(identityToken);
    },
  );

  test('a token asked for pull on a source and push on the image names the push scope first', async () => {
    const src = 'scopes/src';
    const dst = 'scopes/dst';
    const images = await pushImages(reg, src, { seed: 'scope-order' });
    const { result, log } = await through(proxy, tokenRegistryBehind(reg, proxy), {
      image: `${proxy.host}/${dst}`,
      tags: 'v1',
      sources: images.map((i) => `${proxy.host}/${src}@${i.digest}`).join('\n'),
      ...credentials(),
    });
    expect(result.code, output(result)).toBe(0);
    const gets = tokenGets(log);
    expect(gets.length, story(log)).toBeGreaterThan(0);
    for (const get of gets) {
      const scopes = queryOf(get).getAll('scope');
      expect(scopes[0], get.path).toBe(`repository:${dst}:pull,push`);
      expect(scopes, get.path).toContain(`repository:${src}:pull`);
    }
  });
});

// ---- 5. ECR's Basic challenge ----

describe("ECR's Basic challenge (htpasswd registry)", () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry({ auth: 'htpasswd' }));
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  test('Basic realm="https://…/",service="ecr.amazonaws.com" with a text/plain body: username/password work', async () => {
    const repo = 'ecr/app';
    const stage = ecrBasicChallenge(() => proxy.host);
    const { images, result, log } = await mergeTwo({ reg, proxy }, repo, 'ecr', personality(stage), {
      username: reg.username,
      password: reg.password,
    });
    await expectMerged(reg, repo, result);
    const challenged = log.filter((e) => e.status === 401);
    expect(stage.challenged).toBe(challenged.length);
    // Only the first, anonymous requests (the source reads, sent together) meet the challenge.
    expect(challenged.length, story(log)).toBeGreaterThan(0);
    expect(challenged.length, story(log)).toBeLessThanOrEqual(images.length);
  });
});

// ---- 6-12. open registries ----

describe('open registry answers: rate limits, polling, body limits, HEAD and PUT variants, lag codes', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  /** A second registry, not behind the proxy: sources there are streamed across, not mounted. */
  let far: TestRegistry;
  beforeAll(async () => {
    [{ reg, proxy }, far] = await Promise.all([startProxiedRegistry(), startRegistry()]);
  });
  afterAll(async () => {
    await Promise.all([stopProxiedRegistry(reg, proxy), far?.stop()]);
  });

  const manifestGets = (log: RequestLogEntry[]) =>
    log.filter((e) => e.method === 'GET' && pathOf(e).includes('/manifests/'));

  test(
    "Docker Hub's exhausted pull limit (429, ratelimit-remaining: 0, no Retry-After) fails fast, saying to log in",
    async () => {
      const repo = 'pull-limit/app';
      const stage = pullLimitExhausted();
      const { images, result, log } = await mergeTwo({ reg, proxy }, repo, 'pull-limit', personality(stage));
      expect(result.code, output(result)).toBe(1);
      const error = errorLine(result);
      expect(error).toContain('429');
      expect(error).toContain('pull limit');
      expect(error).toMatch(/log in/i);
      expect(await served(reg, repo, 'v1')).toBeNull();
      // Not retried: each GET would count against the limit.
      const gets = manifestGets(log);
      expect(gets.length, story(log)).toBeGreaterThan(0);
      expect(gets.length, story(log)).toBeLessThanOrEqual(images.length);
      expect(stage.limited).toBe(gets.length);
    },
    FAST,
  );

  test("GHCR's 429 with the wait only in its message is retried with backoff and succeeds", async () => {
    const repo = 'throttled/app';
    const stage = throttledAtFirst(3);
    const { result, log } = await mergeTwo({ reg, proxy }, repo, 'throttled', personality(stage));
    await expectMerged(reg, repo, result);
    expect(stage.throttled).toBe(3);
    expect(
      log.filter((e) => e.status === 429),
      story(log),
    ).toHaveLength(3);
  });

  test('sources hidden for 3 s are polled with HEAD: each manifest is downloaded once (Docker Hub counts GETs)', async () => {
    const repo = 'polling/app';
    const images = await pushImages(reg, repo, { seed: 'polling' });
    const digests = images.map((i) => i.digest);
    const pulls = countsPulls();
    const hide = chaos({ hidden: { digests, lagMs: 3_000 } });
    const { result, log } = await through(proxy, personality(pulls, fromHandler(hide.handler)), {
      image: `${proxy.host}/${repo}`,
      tags: 'v1',
      sources: digests.join('\n'),
    });
    await expectMerged(reg, repo, result);
    expect(hide.stats.hidden404).toBeGreaterThan(0);
    const s = story(log);
    for (const digest of digests) {
      const path = `/v2/${repo}/manifests/${digest}`;
      const gets = log.filter((e) => e.method === 'GET' && pathOf(e) === path).map((e) => e.status);
      expect(
        gets.filter((status) => status === 200),
        s,
      ).toHaveLength(1);
      expect(gets.filter((status) => status === 404).length, s).toBeLessThanOrEqual(1);
      expect(
        gets.filter((status) => status !== 200 && status !== 404),
        s,
      ).toEqual([]);
      const heads = log.filter((e) => e.method === 'HEAD' && pathOf(e) === path);
      expect(heads.length, s).toBeGreaterThan(0);
      expect(pulls.gets.get(`${repo}@${digest}`)).toEqual(gets);
    }
  });

  test('ACR body limit (413 above 1 MiB here): a 3 MiB layer from another registry is uploaded in chunks, each at least OCI-Chunk-Min-Length', async () => {
    const LAYER = 3 * 1024 * 1024;
    const LIMIT = 1024 * 1024;
    const MIN = 600 * 1024;
    // One OCI image whose only layer is LAYER random (incompressible) bytes.
    const big = await pushImage(far, 'big/app', {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'oci',
      layer: randomBytes(LAYER),
    });
    const layerDigest = big.layerDigests[0];
    const repo = 'chunked/app';
    const limit = bodyLimit(LIMIT);
    const minimum = chunkMinLength(MIN);
    const { result, log } = await through(proxy, personality(limit, minimum), {
      image: `${proxy.host}/${repo}`,
      tags: 'v1',
      sources: `${far.host}/big/app@${big.digest}`,
    });
    await expectMerged(reg, repo, result);
    expect(await served(reg, repo, big.digest)).toBe(big.digest);

    // The layer is served whole and right.
    const blob = await fetch(`${reg.url}/v2/${repo}/blobs/${layerDigest}`);
    expect(blob.status).toBe(200);
    expect(sha256Digest(new Uint8Array(await blob.arrayBuffer()))).toBe(layerDigest);

    const s = story(log);
    // The whole-blob PUT was refused first, then chunks too large for the limit, halved until they fit.
    expect(limit.refused[0], s).toBe(LAYER);
    expect(limit.refused.length, s).toBeGreaterThan(1);
    const patches = log.filter((e) => e.method === 'PATCH');
    expect(patches.length, s).toBeGreaterThan(1);
    expect(deletes(log), s).toEqual([]);
    // Every upload session's chunks: none but the last below the registry's minimum.
    const sessions = [...minimum.patches.values()];
    const layer = sessions.find((sizes) => sizes.reduce((a, b) => a + b, 0) === LAYER);
    expect(layer, JSON.stringify(sessions)).toBeDefined();
    for (const sizes of sessions) {
      for (const size of sizes.slice(0, -1))
        expect(size, JSON.stringify(sessions)).toBeGreaterThanOrEqual(MIN);
      for (const size of sizes) expect(size).toBeLessThanOrEqual(LIMIT);
    }
  });

  test('HEAD on manifests answered 405: the run succeeds reading with GET', async () => {
    const repo = 'head405/app';
    const sources = await pushMixed(reg, repo, 'head405');
    const stage = manifestHeadNotAllowed();
    const { result, log } = await through(proxy, personality(stage), {
      image: `${proxy.host}/${repo}`,
      tags: 'v1',
      sources: sources.join('\n'),
    });
    await expectMerged(reg, repo, result);
    const heads = log.filter((e) => e.method === 'HEAD' && pathOf(e).includes('/manifests/'));
    expect(heads.length, story(log)).toBeGreaterThan(0);
    expect(stage.refused).toBe(heads.length);
    // The tag was read (before and after the write) with GET instead.
    expect(manifestGets(log).filter((e) => pathOf(e) === `/v2/${repo}/manifests/v1`).length).toBeGreaterThan(
      0,
    );
  });

  test.each([
    [200, 204],
    [202, 200],
  ] as const)(
    'manifest PUTs answered %i and blob PUTs %i instead of 201: success',
    async (manifest, blob) => {
      const images = await pushImages(far, `put-${manifest}/src`, { seed: `put-${manifest}-${blob}` });
      const repo = `put-${manifest}-${blob}/app`;
      const stage = putStatus({ manifest, blob });
      const { result, log } = await through(proxy, personality(stage), {
        image: `${proxy.host}/${repo}`,
        tags: 'v1',
        sources: images.map((i) => `${far.host}/put-${manifest}/src@${i.digest}`).join('\n'),
      });
      await expectMerged(reg, repo, result);
      const s = story(log);
      // Two image manifests and the tag, which stores the index; each image's config and layer.
      expect(stage.manifests, s).toBe(3);
      expect(stage.blobs, s).toBe(4);
      expect(
        log.filter((e) => e.method === 'PUT' && e.status === 201),
        s,
      ).toEqual([]);
    },
  );

  test('HEAD without Docker-Content-Digest, or typed application/json (Artifactory 4.x, Harbor < 2.1.3): the same digest', async () => {
    const repo = 'head-quirks/app';
    const sources = (await pushMixed(reg, repo, 'head-quirks')).join('\n');
    const image = `${proxy.host}/${repo}`;
    const baseline = await through(proxy, undefined, { image, tags: 'baseline', sources });
    expect(baseline.result.code, output(baseline.result)).toBe(0);
    const digest = baseline.result.outputs['digest'];

    /** A run with `stage` tagging `tag` gets the baseline's digest, and the tag serves it; its requests. */
    const sameDigest = async (stage: Stage, tag: string): Promise<RequestLogEntry[]> => {
      const { result, log } = await through(proxy, personality(stage), { image, tags: tag, sources });
      expect(result.code, output(result)).toBe(0);
      expect(result.outputs['digest']).toBe(digest);
      expect(await served(reg, repo, tag)).toBe(digest);
      return log;
    };

    const stripped = headWithoutDigest();
    const noDigest = await sameDigest(stripped, 'no-digest');
    expect(stripped.stripped, story(noDigest)).toBeGreaterThan(0);

    const retyped = headAsJson();
    const json = await sameDigest(retyped, 'json');
    expect(retyped.retyped, story(json)).toBeGreaterThan(0);
  });

  test('index PUT answered 400 MANIFEST_INVALID "Unable to retrieve child manifest" twice (Quay, zot): retried as lag', async () => {
    const repo = 'child-lag/app';
    const stage = childManifestLag(2);
    const { result, log } = await mergeTwo({ reg, proxy }, repo, 'child-lag', personality(stage));
    await expectMerged(reg, repo, result);
    expect(stage.refused).toBe(2);
    const puts = log.filter((e) => e.method === 'PUT' && pathOf(e).includes('/manifests/'));
    expect(
      puts.map((e) => e.status),
      story(log),
    ).toEqual([400, 400, 201]);
  });
});

/** A plain OCI image and a buildx index (image plus attestation), by digest: HEADs on index children too. */
async function pushMixed(reg: TestRegistry, repo: string, seed: string): Promise<string[]> {
  const [plain, buildx] = await Promise.all([
    pushImage(reg, repo, { platform: { os: 'linux', architecture: 'amd64' }, format: 'oci', seed }),
    pushBuildxIndex(reg, repo, { platform: { os: 'linux', architecture: 'arm64' }, seed }),
  ]);
  return [plain.digest, buildx.index.digest];
}
