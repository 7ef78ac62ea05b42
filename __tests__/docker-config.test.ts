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

test('a broken config names its path and the fix', () => {
  expect(() => parseDockerConfig('{not json', '/home/u/.docker/config.json')).toThrow(
    /the Docker config \/home\/u\/.docker\/config.json is not valid JSON .*fix or remove it/,
  );
});
