import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { actionLogger } from '../src/action-logger.js';

/** The runner's Logger: @actions/core's commands, with our escaping applied to every message first. */

let written: string[];

beforeEach(() => {
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

test('a value from a registry cannot start a workflow command, in an info line or an annotation', () => {
  const log = actionLogger();
  log.info('::set-output name=digest::sha256:evil');
  log.info('v7\n::add-mask::x');
  log.warning('bad\n::stop-commands::tok', 'Registry %');
  expect(written.join('')).toBe(
    '\\::set-output name=digest::sha256:evil\n' +
      'v7\\n::add-mask::x\n' +
      '::warning title=Registry %25::bad\\n::stop-commands::tok\n',
  );
});

test('debug lines only when the runner shows them (RUNNER_DEBUG=1)', () => {
  vi.stubEnv('RUNNER_DEBUG', '');
  actionLogger().debug('hidden');
  vi.stubEnv('RUNNER_DEBUG', '1');
  actionLogger().debug('GET /v2/');
  expect(written).toEqual(['::debug::GET /v2/\n']);
});

test('a secret is masked with add-mask; groups fold around the function and end when it throws', async () => {
  const log = actionLogger();
  log.secret('hunter2');
  log.secret('-----BEGIN KEY-----\nMIIEsecret');
  await expect(
    log.group('Publish', async () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(written).toEqual([
    '::add-mask::hunter2\n',
    // The whole value (its newline escaped by core) and each line: the runner masks line by line.
    '::add-mask::-----BEGIN KEY-----%0AMIIEsecret\n',
    '::add-mask::-----BEGIN KEY-----\n',
    '::add-mask::MIIEsecret\n',
    '::group::Publish\n',
    '::endgroup::\n',
  ]);
});
