import { describe, expect, test } from 'vitest';
import {
  type DockerConfig,
  dockerConfigCredential,
  parseDockerConfig,
  serverUrlFor,
} from '../src/docker-config.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('dockerConfigCredential', () => {
  const noHelper = async () => {
    throw new Error('no helper expected');
  };

  test.each([
    [
      'ghcr.io',
      { auths: { 'ghcr.io': { auth: b64('octo:pass:with:colons') } } },
      { kind: 'basic', username: 'octo', password: 'pass:with:colons' },
    ],
    [
      'ghcr.io',
      { auths: { 'https://ghcr.io': { username: 'u', password: 'p' } } },
      { kind: 'basic', username: 'u', password: 'p' },
    ],
    [
      'docker.io',
      { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:secret') } } },
      { kind: 'basic', username: 'hub', password: 'secret' },
    ],
    [
      'localhost:5000',
      { auths: { 'localhost:5000': { identitytoken: 'refresh-me' } } },
      { kind: 'identity-token', token: 'refresh-me' },
    ],
    ['quay.io', { auths: { 'ghcr.io': { auth: b64('a:b') } } }, undefined],
    [
      'acr.example.io',
      {
        auths: {
          'acr.example.io': {
            auth: b64('00000000-0000-0000-0000-000000000000:'),
            identitytoken: 'refresh-me',
          },
        },
      },
      { kind: 'identity-token', token: 'refresh-me', username: '00000000-0000-0000-0000-000000000000' },
    ],
    ['ghcr.io', { auths: { 'ghcr.io': { auth: b64('user:') } } }, undefined],
    ['ghcr.io', { auths: { 'ghcr.io': {} } }, undefined],
  ] as const)('%s from auths %j', async (registry, config, expected) => {
    expect(await dockerConfigCredential(config as DockerConfig, registry, noHelper)).toEqual(expected);
  });

  test('credHelpers win, and a helper user <token> means an identity token', async () => {
    const asked: string[] = [];
    const config: DockerConfig = {
      credHelpers: { 'gcr.io': 'gcloud', 'https://index.docker.io/v1/': 'hub' },
      auths: { 'gcr.io': { auth: b64('ignored:ignored') } },
    };
    const run = async (helper: string, url: string) => {
      asked.push(`${helper} ${url}`);
      return helper === 'gcloud'
        ? { Username: '<token>', Secret: 'ya29.x' }
        : { Username: 'hubby', Secret: 'pw' };
    };
    expect(await dockerConfigCredential(config, 'gcr.io', run)).toEqual({
      kind: 'identity-token',
      token: 'ya29.x',
    });
    expect(await dockerConfigCredential(config, 'docker.io', run)).toEqual({
      kind: 'basic',
      username: 'hubby',
      password: 'pw',
    });
    expect(asked).toEqual(['gcloud gcr.io', 'hub https://index.docker.io/v1/']);
  });

  test('credsStore is asked for every registry; without an answer, auths still count', async () => {
    const config: DockerConfig = { credsStore: 'desktop', auths: { 'quay.io': { auth: b64('robot:tok') } } };
    const run = async (_helper: string, url: string) =>
      url === 'ghcr.io' ? { Username: 'x', Secret: 'y' } : undefined;
    expect(await dockerConfigCredential(config, 'ghcr.io', run)).toEqual({
      kind: 'basic',
      username: 'x',
      password: 'y',
    });
    expect(await dockerConfigCredential(config, 'quay.io', run)).toEqual({
      kind: 'basic',
      username: 'robot',
      password: 'tok',
    });
  });
});

test('Docker Hub is asked for under its historical key', () => {
  expect(serverUrlFor('docker.io')).toBe('https://index.docker.io/v1/');
  expect(serverUrlFor('ghcr.io')).toBe('ghcr.io');
});

describe('parseDockerConfig', () => {
  const path = '/home/u/.docker/config.json';
  const parse = (text: string) => {
    const warnings: string[] = [];
    return { config: parseDockerConfig(text, path, (m) => warnings.push(m)), warnings };
  };

  test('a broken file is ignored with a warning naming its path and the fix, never its content', () => {
    expect(parse('{"auths": {"x": {"auth": fake-secret-1}}}')).toEqual({
      config: undefined,
      warnings: [`the Docker config ${path} is not valid JSON; it is ignored: fix or remove it`],
    });
    expect(parse('{not json')).toEqual({
      config: undefined,
      warnings: [
        `the Docker config ${path} is not valid JSON (at line 1, column 2); it is ignored: fix or remove it`,
      ],
    });
  });

  test('an empty file is no config; JSON that is not an object is warned about', () => {
    expect(parse(' \n')).toEqual({ config: undefined, warnings: [] });
    expect(parse('["fake-secret-1"]')).toEqual({
      config: undefined,
      warnings: [`the Docker config ${path} is not a JSON object; it is ignored: fix or remove it`],
    });
  });

  test('parts of the wrong JSON type are ignored with a warning; the rest is kept', () => {
    const { config, warnings } = parse(
      JSON.stringify({
        auths: {
          'ghcr.io': { auth: b64('a:b'), email: 'kept out', serveraddress: 'ghcr.io' },
          'quay.io': { username: 'robot', password: 12345 },
          'gcr.io': 'fake-secret-1',
          'docker.io': { username: 'hub', password: 'pw', identitytoken: null },
        },
        credHelpers: { 'gcr.io': 'gcloud', 'ecr.aws': ['ecr-login'] },
        credsStore: { name: 'desktop' },
      }),
    );
    expect(config).toEqual({
      auths: {
        'ghcr.io': { auth: b64('a:b') },
        'docker.io': { username: 'hub', password: 'pw' },
      },
      credHelpers: { 'gcr.io': 'gcloud' },
    });
    expect(warnings).toEqual([
      `the Docker config ${path} has "auths" entry "quay.io" that is not an object of strings; it is ignored: fix it`,
      `the Docker config ${path} has "auths" entry "gcr.io" that is not an object of strings; it is ignored: fix it`,
      `the Docker config ${path} has "credHelpers" entry "ecr.aws" that is not a string; it is ignored: fix it`,
      `the Docker config ${path} has "credsStore" that is not a string; it is ignored: fix it`,
    ]);
    expect(warnings.join()).not.toContain('fake-secret-1');
  });

  test('"auths" or "credHelpers" that are not objects are ignored; null is absent, as in Docker', () => {
    expect(parse('{"auths": ["fake-secret-1"], "credHelpers": "gcloud", "credsStore": "desktop"}')).toEqual({
      config: { credsStore: 'desktop' },
      warnings: [
        `the Docker config ${path} has "auths" that is not a JSON object; it is ignored: fix it`,
        `the Docker config ${path} has "credHelpers" that is not a JSON object; it is ignored: fix it`,
      ],
    });
    expect(parse('{"auths": null, "credHelpers": null, "credsStore": null}')).toEqual({
      config: {},
      warnings: [],
    });
  });

  test('a "__proto__" key is a registry name like any other', () => {
    const { config } = parse('{"auths": {"__proto__": {"auth": "eDp5"}}}');
    expect(Object.getPrototypeOf(config?.auths)).toBe(Object.prototype);
    expect(Object.keys(config?.auths ?? {})).toEqual(['__proto__']);
  });
});
