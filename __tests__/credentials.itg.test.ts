import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ActionResult, runAction, visible } from './helpers/action.js';
import {
  authHeaders,
  type PushedImage,
  pushBuildxIndex,
  pushImage,
  pushImages,
  served,
  sourcesOf,
} from './helpers/images.js';
import { startProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A Docker config folder, as docker/login-action leaves one. */
function dockerConfig(config: unknown): string {
  const dir = tempDir('mm-docker-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** A `docker-credential-<name>` on PATH that answers `get` with fixed credentials and notes what it was asked. */
function fakeHelper(
  name: string,
  answer: { Username: string; Secret: string },
): { bin: string; asked: () => string } {
  const bin = tempDir('mm-bin-');
  const log = join(bin, 'asked.log');
  const script = join(bin, `docker-credential-${name}`);
  writeFileSync(
    script,
    `#!/bin/sh\n[ "$1" = get ] || exit 2\ncat >> '${log}'\necho >> '${log}'\nprintf '%s' '${JSON.stringify({ ServerURL: 'x', ...answer })}'\n`,
  );
  chmodSync(script, 0o755);
  return { bin, asked: () => readFileSync(log, 'utf8').trim() };
}

function expectNoSecret(result: ActionResult, secrets: string[]): void {
  const text = visible(result);
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString('base64'));
  }
}

describe('htpasswd registry', () => {
  let reg: TestRegistry;
  let images: PushedImage[];
  const repo = 'creds/app';
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    images = await pushImages(reg, repo, { format: 'docker' });
  });
  afterAll(async () => reg?.stop());

  const sources = () => sourcesOf(images);

  test('docker config auths (base64 auth)', async () => {
    const config = dockerConfig({
      auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } },
    });
    const result = await runAction(
      { image: `${reg.host}/${repo}`, tags: 'auths', sources: sources() },
      { DOCKER_CONFIG: config },
    );
    expect(result.code, result.stdout).toBe(0);
    expect(await served(reg, repo, 'auths')).toBe(result.outputs['digest']);
    expectNoSecret(result, [reg.password]);
  });

  test('a credential helper on PATH (credHelpers), asked with the registry host on stdin', async () => {
    const helper = fakeHelper('fake', { Username: reg.username, Secret: reg.password });
    const config = dockerConfig({ credHelpers: { [reg.host]: 'fake' } });
    const result = await runAction(
      { image: `${reg.host}/${repo}`, tags: 'helper', sources: sources() },
      { DOCKER_CONFIG: config, PATH: `${helper.bin}:${process.env['PATH']}` },
    );
    expect(result.code, result.stdout).toBe(0);
    expect(helper.asked()).toBe(reg.host);
    expect(await served(reg, repo, 'helper')).toBe(result.outputs['digest']);
    expectNoSecret(result, [reg.password]);
  });

  test('a helper in the working directory (an empty PATH entry, or ".") is never run', async () => {
    // The checked-out repository is the working directory: a helper committed there must not run.
    const checkout = tempDir('mm-checkout-');
    const ran = join(checkout, 'ran');
    const planted = join(checkout, 'docker-credential-planted');
    writeFileSync(planted, `#!/bin/sh\ntouch '${ran}'\necho '{"Username":"x","Secret":"y"}'\n`);
    chmodSync(planted, 0o755);
    const config = dockerConfig({ credsStore: 'planted' });
    for (const path of [`:${process.env['PATH']}`, `.:${process.env['PATH']}`, `${process.env['PATH']}::`]) {
      const result = await runAction(
        { image: `${reg.host}/${repo}`, tags: 'planted', sources: sources() },
        { DOCKER_CONFIG: config, PATH: path },
        { cwd: checkout },
      );
      expect(result.code, result.stdout).toBe(1);
      expect(result.stdout).toContain('docker-credential-planted is not on PATH (only absolute PATH entries');
      expect(existsSync(ran)).toBe(false);
    }
  });

  test('a helper runs by its absolute path, with the environment less the inputs and the runner tokens', async () => {
    const checkout = tempDir('mm-checkout-');
    const bin = tempDir('mm-bin-');
    const seen = join(bin, 'env');
    const script = join(bin, 'docker-credential-envdump');
    const answer = JSON.stringify({ Username: reg.username, Secret: reg.password });
    writeFileSync(script, `#!/bin/sh\nenv > '${seen}'\necho "$0" >> '${seen}'\nprintf '%s' '${answer}'\n`);
    chmodSync(script, 0o755);
    const result = await runAction(
      { image: `${reg.host}/${repo}`, tags: 'envdump', sources: sources() },
      {
        DOCKER_CONFIG: dockerConfig({ credsStore: 'envdump' }),
        PATH: `${bin}:${process.env['PATH']}`,
        GITHUB_TOKEN: 'ghs_job-token-4711',
        ACTIONS_RUNTIME_TOKEN: 'runtime-token-4711',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token-4711',
        AWS_REGION: 'eu-west-1',
      },
      { cwd: checkout },
    );
    expect(result.code, result.stdout).toBe(0);
    const env = readFileSync(seen, 'utf8');
    expect(env).toContain(`${script}\n`);
    expect(env).toContain('AWS_REGION=eu-west-1');
    expect(env).toContain(`DOCKER_CONFIG=`);
    expect(env).not.toMatch(/^INPUT_/m);
    expect(env).not.toMatch(/^ACTIONS_/m);
    expect(env).not.toContain('4711');
  });

  test('credsStore is used too', async () => {
    const helper = fakeHelper('store', { Username: reg.username, Secret: reg.password });
    const config = dockerConfig({ credsStore: 'store' });
    const result = await runAction(
      { image: `${reg.host}/${repo}`, tags: 'store', sources: sources() },
      { DOCKER_CONFIG: config, PATH: `${helper.bin}:${process.env['PATH']}` },
    );
    expect(result.code, result.stdout).toBe(0);
    expect(helper.asked()).toBe(reg.host);
  });

  test('the inputs win over the Docker config; a wrong password fails naming the registry, never the password', async () => {
    const config = dockerConfig({
      auths: { [reg.host]: { username: reg.username, password: reg.password } },
    });
    const wrong = 'Wr0ng-but-secret-99';
    const before = await served(reg, repo, 'auths');
    const result = await runAction(
      {
        image: `${reg.host}/${repo}`,
        tags: 'auths',
        sources: sources(),
        username: reg.username,
        password: wrong,
        'if-tag-exists': 'overwrite',
      },
      { DOCKER_CONFIG: config },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`::error::`);
    expect(result.stdout).toContain(`Authentication failed for ${reg.host}`);
    expectNoSecret(result, [wrong, reg.password]);
    expect(await served(reg, repo, 'auths')).toBe(before);
  });

  test('a blob redirected to another host is fetched without the credentials', async () => {
    // The source sits behind a proxy that sends blob GETs to a separate "storage" server, as S3-backed registries do.
    const storageSeen: IncomingHttpHeaders[] = [];
    const storage: Server = createServer(async (req, res) => {
      storageSeen.push(req.headers);
      const digest = (req.url ?? '').split('/').pop() ?? '';
      const blob = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`, { headers: authHeaders(reg, repo) });
      res.writeHead(blob.status, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from(await blob.arrayBuffer()));
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const storageUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
    const proxy = await startProxy(reg.url);
    proxy.setHandler(async (req, forward) => {
      const blob = /\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.path);
      if (req.method === 'GET' && blob && req.headers['authorization']) {
        return {
          status: 307,
          headers: { location: `${storageUrl}/storage/${blob[1]}` },
          body: Buffer.alloc(0),
        };
      }
      return forward();
    });
    const target = await startRegistry();
    try {
      const config = dockerConfig({
        auths: { [proxy.host]: { username: reg.username, password: reg.password } },
      });
      const result = await runAction(
        {
          image: `${target.host}/mirror/app`,
          tags: 'v1',
          sources: images.map((i) => `${proxy.host}/${repo}@${i.digest}`).join('\n'),
        },
        { DOCKER_CONFIG: config },
      );
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(storageSeen.length).toBeGreaterThan(0);
      for (const headers of storageSeen) expect(headers['authorization']).toBeUndefined();
      expect(await served(target, 'mirror/app', 'v1')).toBe(result.outputs['digest']);
      // A dry run reads the image configs where they are: small blob reads follow the redirect the same way.
      const copies = storageSeen.length;
      const dry = await runAction(
        {
          image: `${target.host}/dry/app`,
          tags: 'v1',
          sources: images.map((i) => `${proxy.host}/${repo}@${i.digest}`).join('\n'),
          'dry-run': 'true',
        },
        { DOCKER_CONFIG: config },
      );
      expect(dry.code, dry.stdout).toBe(0);
      expect(dry.outputs['digest']).toBe(result.outputs['digest']);
      expect(storageSeen.length).toBe(copies + images.length);
      for (const headers of storageSeen) expect(headers['authorization']).toBeUndefined();
    } finally {
      await target.stop();
      await proxy.close();
      await new Promise<void>((resolve) => storage.close(() => resolve()));
    }
  });
});

describe('token registry', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' });
  });
  afterAll(async () => reg?.stop());

  test('an identitytoken in the Docker config is exchanged with the refresh-token grant', async () => {
    const repo = 'idtoken/app';
    const images = await pushImages(reg, repo);
    const server = reg.tokenServer;
    if (!server) throw new Error('token server missing');
    const refresh = server.issueRefreshToken(reg.username);
    const config = dockerConfig({ auths: { [reg.host]: { identitytoken: refresh } } });
    const before = server.requests.length;
    const result = await runAction(
      { image: `${reg.host}/${repo}`, tags: 'v1', sources: sourcesOf(images) },
      { DOCKER_CONFIG: config },
    );
    expect(result.code, result.stdout).toBe(0);
    const asked = server.requests.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ method: 'POST', grantType: 'refresh_token', authorized: true });
    expect(asked[0]?.scopes).toEqual([`repository:${repo}:pull,push`]);
    expectNoSecret(result, [refresh]);
  });

  test('cross-repository sources are mounted, one mount per blob, with the narrowest scopes', async () => {
    const staging = 'staging/app';
    const target = 'prod/app';
    const plain = await pushImage(reg, staging, {
      platform: { os: 'linux', architecture: 'amd64' },
      format: 'oci',
      seed: 'mount',
    });
    const buildx = await pushBuildxIndex(reg, staging, {
      platform: { os: 'linux', architecture: 'arm64' },
      seed: 'mount',
    });
    const proxy = await startProxy(reg.url);
    const server = reg.tokenServer;
    if (!server) throw new Error('token server missing');
    try {
      const before = server.requests.length;
      const result = await runAction({
        image: `${proxy.host}/${target}`,
        tags: 'v1',
        sources: [
          `${proxy.host}/${staging}@${plain.digest}`,
          `${proxy.host}/${staging}@${buildx.index.digest}`,
        ].join('\n'),
        username: reg.username,
        password: reg.password,
      });
      expect(result.code, result.stdout).toBe(0);
      const mounts = proxy.log.filter((e) => e.method === 'POST' && e.path.includes('mount='));
      // Blobs: each image's config and layer, and the attestation's config and in-toto layer.
      const blobs = new Set([
        plain.configDigest,
        ...plain.layerDigests,
        buildx.image.configDigest,
        ...buildx.image.layerDigests,
      ]);
      expect(mounts.length).toBeGreaterThanOrEqual(blobs.size);
      expect(mounts.every((e) => e.status === 201)).toBe(true);
      expect(mounts.every((e) => e.path.includes(`from=${encodeURIComponent(staging)}`))).toBe(true);
      expect(new Set(mounts.map((e) => e.path)).size).toBe(mounts.length);
      const scopes = server.requests.slice(before).flatMap((r) => r.scopes);
      expect(scopes).toContain(`repository:${target}:pull,push`);
      expect(scopes).toContain(`repository:${staging}:pull`);
      expect(scopes).not.toContain(`repository:${staging}:pull,push`);
      // The index names the images by the target repository, where they now are.
      const refs = JSON.parse(result.outputs['platform-refs'] ?? '{}') as Record<string, string>;
      expect(refs).toEqual({
        'linux/amd64': `${proxy.host}/${target}@${plain.digest}`,
        'linux/arm64': `${proxy.host}/${target}@${buildx.image.digest}`,
      });
      for (const digest of [
        plain.digest,
        buildx.image.digest,
        buildx.attestation.digest,
        buildx.index.digest,
      ]) {
        expect(await served(reg, target, digest)).toBe(digest);
      }
      expect(await served(reg, target, 'v1')).toBe(result.outputs['digest']);
    } finally {
      await proxy.close();
    }
  });
});

test('cross-registry sources are copied between two registries', async () => {
  const source = await startRegistry();
  const target = await startRegistry();
  try {
    const images = await pushImages(source, 'build/app', {
      architectures: ['amd64', 'arm64', 's390x'],
      format: 'docker',
      seed: 'copy',
    });
    const result = await runAction({
      image: `${target.host}/release/app`,
      tags: 'v1',
      sources: images.map((i) => `${source.host}/build/app@${i.digest}`).join('\n'),
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('0 mounted, 6 copied');
    for (const image of images) {
      for (const blob of [image.configDigest, ...image.layerDigests]) {
        const copied = await fetch(`${target.url}/v2/release/app/blobs/${blob}`);
        const original = await fetch(`${source.url}/v2/build/app/blobs/${blob}`);
        expect(
          Buffer.from(await copied.arrayBuffer()).equals(Buffer.from(await original.arrayBuffer())),
        ).toBe(true);
      }
    }
    expect(await served(target, 'release/app', 'v1')).toBe(result.outputs['digest']);
    // A dry run reads foreign sources where they are and writes nothing.
    mkdirSync(tempDir('mm-empty-'), { recursive: true });
    const dry = await runAction({
      image: `${target.host}/dry/app`,
      tags: 'v1',
      sources: images.map((i) => `${source.host}/build/app@${i.digest}`).join('\n'),
      'dry-run': 'true',
    });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.outputs['digest']).toBe(result.outputs['digest']);
    expect(await served(target, 'dry/app', images[0]?.digest ?? '')).toBeNull();
  } finally {
    await source.stop();
    await target.stop();
  }
});

describe('scoped logins (docker/login-action scope) on one registry', () => {
  let reg: TestRegistry;
  // Each user's tokens reach only its own repository, as package-scoped tokens on GHCR do.
  const users = {
    'pusher-a': { password: 'a-pass-1357', repositories: ['org-a/app'] },
    'pusher-b': { password: 'b-pass-2468', repositories: ['org-b/app'] },
    reader: { password: 'r-pass-9753', repositories: ['org-c/base'] },
  };
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token', scopedUsers: users });
  });
  afterAll(async () => reg?.stop());

  /** What login-action writes for `scope`: `docker login` with DOCKER_CONFIG at `<buildx>/config/<registry>/<scope>`. */
  function scopedLogin(dockerDir: string, scope: string, user: keyof typeof users): void {
    const dir = join(dockerDir, 'buildx', 'config', reg.host, ...scope.split('/'));
    mkdirSync(dir, { recursive: true });
    const auth = Buffer.from(`${user}:${users[user].password}`).toString('base64');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth } } }));
  }

  test('each target is pushed with its own @push login, and a source read with its @pull login', async () => {
    const images = await pushImages(reg, 'org-c/base', { seed: 'scoped' });
    const dockerDir = tempDir('mm-docker-');
    scopedLogin(dockerDir, 'org-a/app@push', 'pusher-a');
    scopedLogin(dockerDir, 'org-b/app@push', 'pusher-b');
    scopedLogin(dockerDir, 'org-c/base@pull', 'reader');
    // A namespace folder is not a scope buildx reads: it must not be taken for org-a/app.
    scopedLogin(dockerDir, 'org-a@push', 'pusher-b');
    const server = reg.tokenServer;
    if (!server) throw new Error('token server missing');
    const before = server.requests.length;
    const result = await runAction(
      {
        image: `${reg.host}/org-a/app\n${reg.host}/org-b/app`,
        tags: 'v1',
        sources: images.map((i) => `${reg.host}/org-c/base@${i.digest}`).join('\n'),
      },
      { DOCKER_CONFIG: dockerDir },
    );
    expect(result.code, result.stdout).toBe(0);
    expect(await served(reg, 'org-a/app', 'v1')).toBe(result.outputs['digest']);
    expect(await served(reg, 'org-b/app', 'v1')).toBe(result.outputs['digest']);
    // Who asked for which repository: every token request was made by the login that covers it.
    const asked = server.requests.slice(before).filter((r) => r.authorized);
    const accountsFor = (repository: string) =>
      new Set(
        asked
          .filter((r) => r.scopes.some((s) => s.startsWith(`repository:${repository}:`)))
          .map((r) => r.account),
      );
    expect(accountsFor('org-a/app')).toEqual(new Set(['pusher-a']));
    expect(accountsFor('org-b/app')).toEqual(new Set(['pusher-b']));
    expect([...accountsFor('org-c/base')]).toContain('reader');
    expectNoSecret(
      result,
      Object.values(users).map((u) => u.password),
    );
  });
});
