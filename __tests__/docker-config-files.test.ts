import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { dockerConfigPath, dockerConfigs, readDockerConfig } from '../src/docker-config-files.js';
import { parseRepository } from '../src/registry/reference.js';

const SECRET = 's3cret-in-config';
const root = mkdtempSync(join(tmpdir(), 'docker-config-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('readDockerConfig', () => {
  function configIn(text: string | undefined): NodeJS.ProcessEnv {
    const dir = mkdtempSync(join(root, 'config-'));
    if (text !== undefined) writeFileSync(join(dir, 'config.json'), text);
    return { DOCKER_CONFIG: dir };
  }

  test('reads $DOCKER_CONFIG/config.json; none there is no config and no warning', () => {
    const warnings: string[] = [];
    const env = configIn('{"credsStore":"desktop"}');
    expect(dockerConfigPath(env)).toBe(join(env['DOCKER_CONFIG'] as string, 'config.json'));
    expect(readDockerConfig(env, (m) => warnings.push(m))).toEqual({ credsStore: 'desktop' });
    expect(readDockerConfig(configIn(undefined), (m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test.each([
    // Node's message for this one quotes the text around the error: the secret.
    ['a bare word', `{"auths": {"ghcr.io": {"auth": ${SECRET}}}}`, ''],
    ['a missing brace', `{\n  "auths": {"ghcr.io": {"auth": "${SECRET}"}\n`, ' (at line 3, column 1)'],
    ['a cut file', '{"auths":', ' (it ends too early)'],
  ])(
    'a malformed config (%s) is ignored with a warning naming its path, not its content',
    (_, text, where) => {
      const warnings: string[] = [];
      const env = configIn(text);
      expect(readDockerConfig(env, (m) => warnings.push(m))).toBeUndefined();
      expect(warnings).toEqual([
        `the Docker config ${dockerConfigPath(env)} is not valid JSON${where}; it is ignored: fix or remove it`,
      ]);
      expect(warnings.join()).not.toContain(SECRET.slice(0, 6));
    },
  );

  test('a config that cannot be read is ignored with a warning', () => {
    const warnings: string[] = [];
    const env = configIn(undefined);
    mkdirSync(dockerConfigPath(env)); // a folder where the file should be
    expect(readDockerConfig(env, (m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toEqual([
      `the Docker config ${dockerConfigPath(env)} could not be read (EISDIR); it is ignored: fix or remove it`,
    ]);
  });
});

describe('scoped logins (docker/login-action v4 `scope`)', () => {
  /** Writes a config.json as `docker login` does with DOCKER_CONFIG set to login-action's scoped folder. */
  function login(dir: string, registry: string, user: string, password: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { [registry]: { auth: b64(`${user}:${password}`) } } }),
    );
  }

  test("a scoped login for the image is found before the main config, which stays the runner's", () => {
    const home = mkdtempSync(join(root, 'home-'));
    const env = { HOME: home };
    // The runner's own Docker Hub login, in the main config.
    login(join(home, '.docker'), 'https://index.docker.io/v1/', 'runner', 'pull-token');
    // login-action with registry docker.io and scope org/app@push: <buildx config>/config/registry-1.docker.io/org/app@push
    const scoped = join(home, '.docker', 'buildx', 'config', 'registry-1.docker.io', 'org', 'app@push');
    login(scoped, 'https://index.docker.io/v1/', 'pusher', 'push-token');
    const image = parseRepository('docker.io/org/app');
    const configs = dockerConfigs(env, [image], () => {});
    const found = configs.configsFor(image);
    expect(found).toHaveLength(2);
    expect(JSON.stringify(found[0])).toContain(b64('pusher:push-token'));
    expect(JSON.stringify(found[1])).toContain(b64('runner:pull-token'));
    expect(configs.loginOf(image)).toBe(scoped);
    // Another repository on Docker Hub, and no repository at all, get the main config alone.
    const other = parseRepository('docker.io/org/other');
    expect(configs.configsFor(other)).toHaveLength(1);
    expect(configs.loginOf(other)).toBe('');
    expect(configs.configsFor(undefined)).toHaveLength(1);
  });

  test.each([
    ['the repository with push', ['org', 'app@push'], true],
    ['the repository with pull and push', ['org', 'app@pull,push'], true],
    ['the repository without actions', ['org', 'app'], true],
    ['the registry with push', ['@push'], true],
    // buildx matches the full repository name: a namespace folder covers nothing below it.
    ['a namespace scope', ['org@push'], false],
    ['a namespace without actions', ['org'], false],
    // Pull alone does not cover the push a target needs.
    ['the repository with pull only', ['org', 'app@pull'], false],
  ])('a target: %s covers it: %s', (_name, scope, covers) => {
    const home = mkdtempSync(join(root, 'home-'));
    const base = join(home, 'buildx-cfg', 'config', 'ghcr.io');
    const dir = scope[0]?.startsWith('@') ? `${base}${scope[0]}` : join(base, ...scope);
    login(dir, 'ghcr.io', 'scoped', 'token');
    const image = parseRepository('ghcr.io/org/app');
    const configs = dockerConfigs({ HOME: home, BUILDX_CONFIG: join(home, 'buildx-cfg') }, [image], () => {});
    expect(configs.loginOf(image)).toBe(covers ? dir : '');
    expect(JSON.stringify(configs.configsFor(image)).includes(b64('scoped:token'))).toBe(covers);
  });

  test('two scoped logins on one registry: each target gets its own, a source its @pull login', () => {
    const home = mkdtempSync(join(root, 'home-'));
    const base = join(home, '.docker', 'buildx', 'config', 'ghcr.io');
    login(join(base, 'org-a', 'app@push'), 'ghcr.io', 'a', 'a-token');
    login(join(base, 'org-b', 'app@push'), 'ghcr.io', 'b', 'b-token');
    login(join(base, 'org-c', 'base@pull'), 'ghcr.io', 'c', 'c-token');
    login(join(base, 'org-d', 'base@push'), 'ghcr.io', 'd', 'd-token');
    const [a, b] = [parseRepository('ghcr.io/org-a/app'), parseRepository('ghcr.io/org-b/app')];
    const configs = dockerConfigs({ HOME: home }, [a, b], () => {});
    expect(JSON.stringify(configs.configsFor(a))).toContain(b64('a:a-token'));
    expect(JSON.stringify(configs.configsFor(b))).toContain(b64('b:b-token'));
    expect(configs.loginOf(a)).not.toBe(configs.loginOf(b));
    // Sources are read: the @pull login covers org-c/base; a @push login does not cover reading org-d/base.
    expect(JSON.stringify(configs.configsFor(parseRepository('ghcr.io/org-c/base')))).toContain(
      b64('c:c-token'),
    );
    expect(configs.configsFor(parseRepository('ghcr.io/org-d/base'))).toEqual([]);
  });

  test('DOCKER_CONFIG moves the buildx folder with it', () => {
    const dir = mkdtempSync(join(root, 'docker-config-'));
    login(join(dir, 'buildx', 'config', 'localhost:5000', 'app@push'), 'localhost:5000', 'u', 'p');
    const image = parseRepository('localhost:5000/app');
    const configs = dockerConfigs({ DOCKER_CONFIG: dir }, [image], () => {});
    expect(JSON.stringify(configs.configsFor(image)[0])).toContain(b64('u:p'));
  });
});
