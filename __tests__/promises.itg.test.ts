import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLine, runAction } from './helpers/action.js';
import { chaos } from './helpers/chaos.js';
import {
  MediaTypes,
  pushImage,
  pushImages,
  pushJsonManifest,
  pushManifest,
  served,
  sourcesOf,
} from './helpers/images.js';
import type { TestProxy } from './helpers/proxy.js';
import { startProxiedRegistry, stopProxiedRegistry, type TestRegistry } from './helpers/registry.js';

/**
 * SPEC Guarantees 3, 4 and 7 against content a real registry stores without complaint but no build tool
 * writes: platform strings carrying workflow commands, indexes that lie about their children, indexes nested
 * to make a naive copy explode; and a tag that another writer moves while the run waits.
 */

let reg: TestRegistry;
let proxy: TestProxy;
beforeAll(async () => {
  ({ reg, proxy } = await startProxiedRegistry());
});
afterAll(() => stopProxiedRegistry(reg, proxy));

/** An OCI index over `children`, each with the given platform (or none), pushed by digest. */
function pushIndex(
  repo: string,
  children: readonly { image: { digest: string; size: number; mediaType: string }; platform?: object }[],
) {
  const manifests = children.map(({ image, platform }) => ({
    mediaType: image.mediaType,
    digest: image.digest,
    size: image.size,
    ...(platform ? { platform } : {}),
  }));
  const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests };
  return pushJsonManifest(reg, repo, index, MediaTypes.ociIndex);
}

/** Runs the action on an index over `children` pushed to `repo`, to tag it `repo:v1`. */
async function mergeIndexOver(repo: string, children: Parameters<typeof pushIndex>[1]) {
  const index = await pushIndex(repo, children);
  return runAction({ image: `${reg.host}/${repo}`, tags: 'v1', sources: index.digest });
}

/** Lines of the action's stdout the runner would read as workflow commands we did not issue. */
function injected(stdout: string, command: string): string[] {
  return stdout.split('\n').filter((line) => line.trimStart().startsWith(command));
}

describe('workflow-command injection through registry content', () => {
  test('a config whose variant carries a newline and a command is refused; no command reaches stdout', async () => {
    const repo = 'promises/inject-config';
    const evil = await pushImage(reg, repo, {
      platform: { os: 'linux', architecture: 'arm', variant: 'v7\n::warning::injected\n::add-mask::x' },
      format: 'oci',
    });
    const result = await runAction({ image: `${reg.host}/${repo}`, tags: 'v1', sources: evil.digest });
    expect(result.code).toBe(1);
    expect(injected(result.stdout, '::warning::injected')).toEqual([]);
    expect(injected(result.stdout, '::add-mask::')).toEqual([]);
    const error = errorLine(result);
    expect(error).toContain(evil.digest);
    expect(error).toContain('variant');
    expect(await served(reg, repo, 'v1')).toBeNull();
  });

  test('an index child whose platform carries ::stop-commands:: is refused before anything is written', async () => {
    const repo = 'promises/inject-index';
    const image = await pushImage(reg, repo, {
      platform: { os: 'linux', architecture: 'arm64' },
      format: 'oci',
    });
    const result = await mergeIndexOver(repo, [
      { image, platform: { architecture: 'arm64', os: 'linux', variant: 'v8\n::stop-commands::tok' } },
    ]);
    expect(result.code).toBe(1);
    expect(injected(result.stdout, '::stop-commands::')).toEqual([]);
    expect(result.stdout).toContain('not a short token');
    expect(await served(reg, repo, 'v1')).toBeNull();
  });
});

describe('indexes that lie or explode', () => {
  test('a child whose size differs from what the registry serves is refused, naming it', async () => {
    const repo = 'promises/wrong-size';
    const image = await pushImage(reg, repo, {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'oci',
    });
    const result = await mergeIndexOver(repo, [
      { image: { ...image, size: image.size + 7 }, platform: { architecture: 'amd64', os: 'linux' } },
    ]);
    expect(result.code).toBe(1);
    const error = errorLine(result);
    expect(error).toContain(image.digest);
    expect(error).toContain(`${image.size + 7} bytes`);
    expect(error).toContain(`${image.size} bytes`);
    expect(await served(reg, repo, 'v1')).toBeNull();
  });

  test('a foreign index nesting indexes is refused before it is copied, not copied exponentially', async () => {
    const from = 'promises/nest-src';
    const repo = 'promises/nest-dst';
    const image = await pushImage(reg, from, {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'oci',
    });
    // Each level lists the one below twice: a copy that recursed without remembering would PUT 2^depth times.
    let level: { digest: string; size: number; mediaType: string } = image;
    for (let depth = 0; depth < 7; depth++)
      level = await pushIndex(from, [{ image: level }, { image: level }]);
    const before = proxy.log.length;
    const result = await runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'v1',
      sources: `${proxy.host}/${from}@${level.digest}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('nests another index');
    const puts = proxy.log.slice(before).filter((e) => e.method === 'PUT');
    expect(puts.filter((e) => e.path.includes('/manifests/'))).toEqual([]);
    expect(proxy.log.length - before).toBeLessThan(20);
  });
});

test('platform aliases: linux/arm is arm/v7, in platforms and in a prefix', async () => {
  const repo = 'promises/alias';
  const arm = await pushImage(reg, repo, {
    platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
    format: 'oci',
  });
  const arm64 = await pushImage(reg, repo, {
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    format: 'oci',
  });
  const result = await runAction({
    image: `${reg.host}/${repo}`,
    tags: 'v1',
    sources: `linux/arm=${arm.digest}\nlinux/arm64=${arm64.digest}`,
    platforms: 'linux/arm,linux/arm64/v8',
  });
  expect(result.code, result.stdout).toBe(0);
  expect(JSON.parse(result.outputs['platform-digests'] ?? '')).toEqual({
    'linux/arm/v7': arm.digest,
    'linux/arm64': arm64.digest,
  });
});

test('a tag another writer moves during the wait is decided on its new state (if-tag-exists: fail)', async () => {
  const repo = 'promises/stale';
  const sources = await pushImages(reg, repo);
  const theirs = await pushImage(reg, repo, {
    platform: { os: 'linux', architecture: 's390x' },
    format: 'oci',
    seed: 'other-writer',
  });
  const hiddenDigest = sources[1]?.digest ?? '';
  const c = chaos({ hidden: { digests: [hiddenDigest], lagMs: 2_500 } });
  proxy.setHandler(c.handler);
  try {
    const run = runAction({
      image: `${proxy.host}/${repo}`,
      tags: 'shared',
      sources: sourcesOf(sources),
      'if-tag-exists': 'fail',
    });
    // Once the run is polling for the hidden source (it has read whatever it reads at the start), another
    // writer puts its own image on the tag, straight on the registry.
    while (c.stats.hidden404 < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await pushManifest(reg, repo, 'shared', theirs.bytes, theirs.mediaType);
    const result = await run;
    expect(result.code).toBe(1);
    const error = errorLine(result);
    expect(error).toContain('if-tag-exists is fail');
    expect(error).toContain(theirs.digest);
    expect(result.outputs['written']).toBeUndefined();
    expect(await served(reg, repo, 'shared')).toBe(theirs.digest);
  } finally {
    proxy.setHandler(undefined);
  }
});

test('an OCI index over Docker v2 images warns (older Quay refuses it); an all-OCI one does not', async () => {
  const repo = 'promises/mixed';
  const docker = await pushImage(reg, repo, {
    platform: { os: 'linux', architecture: 'amd64' },
    format: 'docker',
  });
  const oci = await pushImage(reg, repo, { platform: { os: 'linux', architecture: 'arm64' }, format: 'oci' });
  const mixed = await runAction({
    image: `${reg.host}/${repo}`,
    tags: 'mixed',
    sources: `${docker.digest}\n${oci.digest}`,
  });
  expect(mixed.code, mixed.stdout).toBe(0);
  expect(mixed.stdout).toMatch(
    /::warning title=OCI index with Docker v2 children::.*1 Docker v2 image manifest\(s\) \(linux\/amd64\)/,
  );
  const pure = await runAction({ image: `${reg.host}/${repo}`, tags: 'pure', sources: oci.digest });
  expect(pure.code, pure.stdout).toBe(0);
  expect(pure.stdout).not.toContain('OCI index with Docker v2 children');
});
