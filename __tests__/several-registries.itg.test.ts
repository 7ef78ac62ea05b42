import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAction } from './helpers/action.js';
import { chaos } from './helpers/chaos.js';
import {
  MediaTypes,
  type PushedImage,
  pushImage,
  pushImages,
  pushJsonManifest,
  served,
  sourcesOf,
} from './helpers/images.js';
import { mediaTypeRequired, personality } from './helpers/personalities.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

/**
 * SPEC: `image` lists several repositories, the first the primary. Every image gets the same index; bare tags go
 * on every image, full references on their own; content is brought from the primary into the others; no tag moves
 * anywhere until every image holds the index. Two real registries: `one` open, `two` with htpasswd.
 */

let one: TestRegistry;
let two: TestRegistry;
let twoProxy: TestProxy;
const dirs: string[] = [];

beforeAll(async () => {
  [one, two] = await Promise.all([startRegistry(), startRegistry({ auth: 'htpasswd' })]);
  twoProxy = await startProxy(two.url);
});
afterAll(async () => {
  await twoProxy?.close();
  await Promise.all([one?.stop(), two?.stop()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A Docker config folder as `docker login` leaves it, with these auths. */
function dockerConfig(auths: Record<string, { user: string; password: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mm-docker-config-'));
  dirs.push(dir);
  const entries = Object.fromEntries(
    Object.entries(auths).map(([host, { user, password }]) => [host, { auth: b64(`${user}:${password}`) }]),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: entries }));
  return dir;
}

const pushPair = (repo: string, seed: string) => pushImages(one, repo, { seed });

/** Runs the action to merge `images` into multi/<name> on `one` and mirror/<name> on `two` (through its proxy). */
function mergeIntoBoth(name: string, tags: string, images: PushedImage[], dockerConfigDir: string) {
  return runAction(
    { image: `${one.host}/multi/${name}\n${twoProxy.host}/mirror/${name}`, tags, sources: sourcesOf(images) },
    { DOCKER_CONFIG: dockerConfigDir },
  );
}

describe('two registries, one step', () => {
  test('the same index under every tag in both; full references only on their own image', async () => {
    const images = await pushPair('multi/app', 'both');
    const first = `${one.host}/multi/app`;
    const second = `${twoProxy.host}/mirror/app`;
    const config = dockerConfig({ [twoProxy.host]: { user: two.username, password: two.password } });
    const result = await runAction(
      {
        image: `${first}\n${second}`,
        // metadata-action's `tags` output for two images, plus a bare tag for both.
        tags: `${first}:1.0\n${second}:1.0-mirror\nlatest`,
        sources: sourcesOf(images),
      },
      { DOCKER_CONFIG: config },
    );
    expect(result.code, result.stdout).toBe(0);
    const digest = result.outputs['digest'] ?? '';
    expect(await served(one, 'multi/app', '1.0')).toBe(digest);
    expect(await served(one, 'multi/app', 'latest')).toBe(digest);
    expect(await served(one, 'multi/app', '1.0-mirror')).toBeNull();
    expect(await served(two, 'mirror/app', '1.0-mirror')).toBe(digest);
    expect(await served(two, 'mirror/app', 'latest')).toBe(digest);
    expect(await served(two, 'mirror/app', '1.0')).toBeNull();
    // The per-platform images were brought into the second registry, so its platform refs resolve there.
    const outputs = JSON.parse(result.outputs['images'] ?? '{}') as Record<
      string,
      { ref: string; tags: string[]; 'platform-refs': Record<string, string> }
    >;
    expect(Object.keys(outputs)).toEqual([first, second]);
    expect(outputs[second]?.ref).toBe(`${second}@${digest}`);
    expect(outputs[second]?.tags).toEqual([`${second}:1.0-mirror`, `${second}:latest`]);
    expect(outputs[first]?.tags).toEqual([`${first}:1.0`, `${first}:latest`]);
    for (const image of images) {
      expect(await served(two, 'mirror/app', image.digest)).toBe(image.digest);
    }
    // `ref` and `platform-refs` name the primary.
    expect(result.outputs['ref']).toBe(`${first}@${digest}`);
    expect(JSON.parse(result.outputs['tags'] ?? '[]')).toHaveLength(4);
    expect(result.summary).toContain(`#### <code>${second}@${digest}</code>`);
  });

  test('wrong credentials for the second registry leave every tag in both as it was', async () => {
    const old = await pushPair('multi/creds', 'old');
    const config = dockerConfig({ [twoProxy.host]: { user: two.username, password: two.password } });
    const before = await mergeIntoBoth('creds', 'stable', old, config);
    expect(before.code, before.stdout).toBe(0);
    const held = before.outputs['digest'];
    const fresh = await pushPair('multi/creds', 'new');
    const wrong = dockerConfig({ [twoProxy.host]: { user: two.username, password: 'not-the-password' } });
    const result = await mergeIntoBoth('creds', 'stable', fresh, wrong);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/::error::.*Authentication failed for 127\.0\.0\.1/);
    expect(result.outputs['written']).toBeUndefined();
    expect(await served(one, 'multi/creds', 'stable')).toBe(held);
    expect(await served(two, 'mirror/creds', 'stable')).toBe(held);
  });

  test('a layer over 4 MiB the second registry already holds is found there, not copied again', async () => {
    // A blob HEAD declares the blob's size; it has no body, so no body limit applies to it.
    const big = await pushImage(one, 'multi/big', {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'oci',
      layer: randomBytes(4 * 1024 * 1024 + 1),
    });
    const config = dockerConfig({ [twoProxy.host]: { user: two.username, password: two.password } });
    const first = await mergeIntoBoth('big', 'v1', [big], config);
    expect(first.code, first.stdout).toBe(0);
    const from = twoProxy.log.length;

    const again = await mergeIntoBoth('big', 'v2', [big], config);

    expect(again.code, again.stdout).toBe(0);
    const uploads = twoProxy.log.slice(from).filter((e) => e.path.includes('/blobs/uploads/'));
    expect(uploads).toEqual([]);
    expect(await served(two, 'mirror/big', 'v2')).toBe(again.outputs['digest']);
  });

  test('a source without a top-level mediaType, refused by the second registry as ECR does, is named; no tag moves', async () => {
    const [image] = await pushPair('multi/bare', 'bare');
    if (image === undefined) throw new Error('no image pushed');
    const { mediaType: _, ...withoutMediaType } = JSON.parse(Buffer.from(image.bytes).toString('utf8'));
    const bare = await pushJsonManifest(one, 'multi/bare', withoutMediaType, MediaTypes.ociManifest);
    const config = dockerConfig({ [twoProxy.host]: { user: two.username, password: two.password } });
    const stage = mediaTypeRequired();
    twoProxy.setHandler(personality(stage));
    try {
      const result = await runAction(
        { image: `${one.host}/multi/bare\n${twoProxy.host}/mirror/bare`, tags: 'v1', sources: bare.digest },
        { DOCKER_CONFIG: config },
      );

      expect(result.code, result.stdout).toBe(1);
      expect(stage.refused).toBeGreaterThan(0);
      expect(result.stdout).toContain(`::error::`);
      expect(result.stdout).toContain(
        `The manifest ${bare.digest} has no top-level "mediaType", which the OCI spec allows and this registry requires (ECR does)`,
      );
      expect(await served(one, 'multi/bare', 'v1')).toBeNull();
      expect(await served(two, 'mirror/bare', 'v1')).toBeNull();
    } finally {
      twoProxy.setHandler(undefined);
    }
  });

  test('lag in the second registry is waited out', async () => {
    const images = await pushPair('multi/lag', 'lag');
    const config = dockerConfig({ [twoProxy.host]: { user: two.username, password: two.password } });
    const c = chaos({ putBlobUnknown: { times: 2 }, tagLagMs: 800 });
    twoProxy.setHandler(c.handler);
    try {
      const result = await mergeIntoBoth('lag', 'v1', images, config);
      expect(result.code, result.stdout).toBe(0);
      expect(c.stats.putBlobUnknown).toBe(2);
      expect(c.stats.tagLagServed).toBeGreaterThan(0);
      expect(await served(two, 'mirror/lag', 'v1')).toBe(result.outputs['digest']);
      expect(await served(one, 'multi/lag', 'v1')).toBe(result.outputs['digest']);
    } finally {
      twoProxy.setHandler(undefined);
    }
  });

  test('a full reference to an image not in `image` is refused, naming it, before any request', async () => {
    const before = twoProxy.log.length;
    const result = await runAction({
      image: `${one.host}/multi/app`,
      tags: `latest\n${twoProxy.host}/elsewhere/app:1`,
      sources: `sha256:${'a'.repeat(64)}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(
        `::error::input "tags": "${twoProxy.host}/elsewhere/app:1" is a tag of ${twoProxy.host}/elsewhere/app, not of image`,
      ),
    );
    expect(twoProxy.log.length).toBe(before);
  });

  test('credentials from a scoped docker/login-action login (the files it writes) are used for that image', async () => {
    const images = await pushPair('multi/scoped', 'scoped');
    // The main config holds the runner's own login, wrong for this registry; login-action v4 with
    // `scope: mirror/scoped@push` wrote $DOCKER_CONFIG/buildx/config/<registry>/mirror/scoped@push/config.json.
    const config = dockerConfig({ [twoProxy.host]: { user: 'runner', password: 'runner-pull-token' } });
    const scoped = join(config, 'buildx', 'config', twoProxy.host, 'mirror', 'scoped@push');
    mkdirSync(scoped, { recursive: true });
    writeFileSync(
      join(scoped, 'config.json'),
      JSON.stringify({ auths: { [twoProxy.host]: { auth: b64(`${two.username}:${two.password}`) } } }),
    );
    const result = await mergeIntoBoth('scoped', 'v1', images, config);
    expect(result.code, result.stdout).toBe(0);
    expect(await served(two, 'mirror/scoped', 'v1')).toBe(result.outputs['digest']);
  });
});
