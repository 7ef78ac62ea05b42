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
    login(
      join(home, '.docker', 'buildx', 'config', 'registry-1.docker.io', 'org', 'app@push'),
      'https://index.docker.io/v1/',
      'pusher',
      'push-token',
    );
    const configs = dockerConfigs(env, [parseRepository('docker.io/org/app')], () => {});
    const found = configs('docker.io');
    expect(found).toHaveLength(2);
    expect(JSON.stringify(found[0])).toContain(b64('pusher:push-token'));
    expect(JSON.stringify(found[1])).toContain(b64('runner:pull-token'));
  });

  test.each([
    ['the repository without actions', ['org', 'app']],
    ['a namespace scope', ['org@push']],
    ['the registry itself', []],
  ])('%s counts too, the most specific first', (_name, scope) => {
    const home = mkdtempSync(join(root, 'home-'));
    const base = join(home, 'buildx-cfg', 'config', 'ghcr.io');
    const dir = scope.length ? join(base, ...scope) : `${base}@push`;
    login(dir, 'ghcr.io', 'scoped', 'token');
    const configs = dockerConfigs(
      { HOME: home, BUILDX_CONFIG: join(home, 'buildx-cfg') },
      [parseRepository('ghcr.io/org/app')],
      () => {},
    );
    expect(JSON.stringify(configs('ghcr.io')[0])).toContain(b64('scoped:token'));
    // Another registry has no scoped login.
    expect(configs('docker.io')).toEqual([]);
  });

  test('DOCKER_CONFIG moves the buildx folder with it', () => {
    const dir = mkdtempSync(join(root, 'docker-config-'));
    login(join(dir, 'buildx', 'config', 'localhost:5000', 'app@push'), 'localhost:5000', 'u', 'p');
    const configs = dockerConfigs({ DOCKER_CONFIG: dir }, [parseRepository('localhost:5000/app')], () => {});
    expect(JSON.stringify(configs('localhost:5000')[0])).toContain(b64('u:p'));
  });
});
