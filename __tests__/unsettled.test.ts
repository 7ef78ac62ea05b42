import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';

/** A promise that never settles must not let the process end with exit code 0 (src/unsettled.ts). */

const script = (work: string) =>
  `import { failIfUnsettled } from './src/unsettled.ts';
   failIfUnsettled(${work}, () => { process.stderr.write('unsettled'); process.exitCode = 1; });`;

function runNode(work: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(work)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

test('a promise that never settles fails the process when the event loop runs dry', () => {
  const result = runNode('new Promise(() => {})');
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 1, stderr: 'unsettled' });
});

test.each([
  ['resolved', 'new Promise((resolve) => setTimeout(resolve, 10))'],
  ['rejected', 'new Promise((_, reject) => setTimeout(() => reject(new Error("x")), 10))'],
])('a promise that %s leaves the exit code alone', (_, work) => {
  const result = runNode(work);
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
});
