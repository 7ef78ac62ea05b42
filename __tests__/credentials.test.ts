import { expect, test } from 'vitest';
import { credentialSource } from '../src/credentials.js';
import type { DockerConfig } from '../src/docker-config.js';
import { parseRepository } from '../src/registry/reference.js';
import { recordingLogger } from './helpers/client.js';

const config: DockerConfig = {
  auths: {
    'ghcr.io': { auth: Buffer.from('config-user:config-pass').toString('base64') },
    'quay.io': { username: 'robot', password: 'robot-pass' },
  },
};
const noHelper = async () => undefined;

test.each([
  // The inputs are for the target registry only, and win there over the Docker config.
  ['ghcr.io', { kind: 'basic', username: 'input-user', password: 'input-pass' }],
  // Other registries come from the Docker config.
  ['quay.io', { kind: 'basic', username: 'robot', password: 'robot-pass' }],
  // Nothing anywhere: anonymous.
  ['docker.io', undefined],
] as const)('with inputs for ghcr.io, %s gets %j', async (registry, expected) => {
  const source = credentialSource({
    image: parseRepository('ghcr.io/org/app'),
    username: 'input-user',
    password: 'input-pass',
    githubToken: 'gh-token',
    dockerConfigs: { configsFor: () => [config] },
    runHelper: noHelper,
    log: recordingLogger(),
  });
  expect(await source(registry)).toEqual(expected);
});

test('the Docker config comes before the GitHub token, which serves ghcr.io only', async () => {
  const log = recordingLogger();
  const options = {
    image: parseRepository('ghcr.io/org/app'),
    username: undefined,
    password: undefined,
    githubToken: 'gh-token-123',
    githubActor: 'octocat',
    runHelper: noHelper,
    log,
  };
  expect(
    await credentialSource({ ...options, dockerConfigs: { configsFor: () => [config] } })('ghcr.io'),
  ).toEqual({
    kind: 'basic',
    username: 'config-user',
    password: 'config-pass',
  });
  const tokenOnly = credentialSource({ ...options, dockerConfigs: { configsFor: () => [] } });
  expect(await tokenOnly('ghcr.io')).toEqual({
    kind: 'basic',
    username: 'octocat',
    password: 'gh-token-123',
  });
  expect(await tokenOnly('quay.io')).toBeUndefined();
  // Whatever was found is masked at once, and the debug line names the user, never the secret.
  log.info('gh-token-123 config-pass');
  expect(log.lines.at(-1)).toBe('info *** ***');
  expect(log.lines.join('\n')).toContain('credentials for ghcr.io: user octocat');
});

test('secrets from a credential helper and from auths are masked as soon as they are read', async () => {
  const log = recordingLogger();
  const source = credentialSource({
    image: parseRepository('ghcr.io/org/app'),
    username: undefined,
    password: undefined,
    githubToken: undefined,
    dockerConfigs: {
      configsFor: () => [
        {
          credHelpers: { 'gcr.io': 'gcloud', 'ghcr.io': 'desktop' },
          auths: { 'localhost:5000': { identitytoken: 'refresh-from-config' } },
        },
      ],
    },
    runHelper: async (helper) =>
      helper === 'gcloud'
        ? { Username: '<token>', Secret: 'ya29.from-helper' }
        : { Username: 'octo', Secret: 'pass-from-helper' },
    log,
  });
  await source('gcr.io');
  await source('ghcr.io');
  await source('localhost:5000');
  // The Basic header (and a config's `auth`) is base64 of user:password, masked too.
  const basic = Buffer.from('octo:pass-from-helper').toString('base64');
  log.info(`ya29.from-helper pass-from-helper refresh-from-config Basic ${basic}`);
  expect(log.lines.at(-1)).toBe('info *** *** *** Basic ***');
  expect(log.lines.join('\n')).toContain('credentials for ghcr.io: user octo');
});
