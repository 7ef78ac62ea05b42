import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { REGISTRY_BIN_VARIABLE, registryBinary } from './helpers/registry.js';

// Where the tests find the CNCF distribution registry: Debian calls it docker-registry, Fedora and the release
// downloads registry, and anything else is named through the variable.
const dir = mkdtempSync(join(tmpdir(), 'mm-registry-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function executableIn(folder: string, name: string): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

const debian = join(dir, 'debian');
const fedora = join(dir, 'fedora');
const both = join(dir, 'both');
const none = join(dir, 'none');
executableIn(debian, 'docker-registry');
executableIn(fedora, 'registry');
executableIn(both, 'docker-registry');
executableIn(both, 'registry');
mkdirSync(none);
const download = executableIn(join(dir, 'download'), 'distribution-registry');
const notExecutable = join(dir, 'plain');
writeFileSync(notExecutable, '');

describe('the registry binary', () => {
  test.each([
    ['Debian', debian, 'docker-registry'],
    ['Fedora', fedora, 'registry'],
    ['both installed: Debian first', both, 'docker-registry'],
  ])('on PATH (%s)', (_name, path, expected) => {
    expect(registryBinary({ PATH: path })).toBe(expected);
  });

  test(`${REGISTRY_BIN_VARIABLE} names it, before anything on PATH`, () => {
    expect(registryBinary({ PATH: both, [REGISTRY_BIN_VARIABLE]: download })).toBe(download);
    expect(registryBinary({ PATH: fedora, [REGISTRY_BIN_VARIABLE]: 'registry' })).toBe('registry');
  });

  test.each([
    ['a missing file', join(dir, 'nowhere', 'registry')],
    ['a file that is not executable', notExecutable],
    ['a folder', debian],
  ])(`${REGISTRY_BIN_VARIABLE} set to %s is an error naming the variable`, (_name, value) => {
    expect(() => registryBinary({ PATH: both, [REGISTRY_BIN_VARIABLE]: value })).toThrow(
      `${REGISTRY_BIN_VARIABLE}=${value} is not an executable file`,
    );
  });

  test('none found: the error names the variable and the install command', () => {
    expect(() => registryBinary({ PATH: none })).toThrow(
      new RegExp(
        `found neither docker-registry nor registry on PATH: set ${REGISTRY_BIN_VARIABLE}.*apt-get install -y docker-registry`,
      ),
    );
  });
});
