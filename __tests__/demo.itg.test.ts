import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';

/** `npm run demo`: the newcomer's first look, run as .ci/run runs it, against its own throwaway registry. */
const ROOT = resolve(import.meta.dirname, '..');

interface Demo {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the demo; `onOutput` sees stdout as it grows and may signal the process. */
function demo(args: string[], onOutput?: (stdout: string, stop: () => void) => void): Promise<Demo> {
  return new Promise((done, reject) => {
    // As `npm run demo` runs it: one process, which gets Ctrl-C itself (tsx's CLI would relay it to a child).
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

test('shows the late source waited for, platforms refusing, and a second run that writes nothing', async () => {
  const { code, stdout, stderr } = await demo([]);
  expect(code, stderr).toBe(0);
  const steps = stdout.split(/^== /m).slice(1);
  expect(steps).toHaveLength(3);
  const [late, refused, again] = steps;
  // 1: the arm64 digest is waited for, visibly, and then the merge succeeds.
  expect(late).toMatch(/demo\/app@sha256:\w+ is not served yet; waiting for it up to 120 s \(wait-timeout/);
  expect(late).toMatch(/still waiting after 2 s of 120 s for 1 digest/);
  expect(late).toContain('written: true (2 tags moved)');
  // The outputs are readable: the manifest indented, not an escaped string.
  expect(late).toMatch(/^ {2}digest {12}sha256:[0-9a-f]{64}$/m);
  expect(late).toContain('"schemaVersion": 2,');
  expect(late).not.toContain('\\"');
  // 2: a missing platform refuses the run and names it.
  expect(refused).toContain('missing linux/arm/v7');
  expect(refused).toContain('nothing was written');
  expect(refused).toMatch(/exit code 1; \S+:latest still serves sha256:/);
  // 3: the same merge again writes nothing.
  expect(again).toMatch(/:latest already serves sha256:/);
  expect(again).toContain('written: false: every tag already serves the index');
});

test('--keep leaves the registry running until Ctrl-C, then removes it', async () => {
  let url = '';
  let tags: unknown;
  const { code, stdout } = await demo(['--keep'], (out, stop) => {
    const match = /The registry is still running at (http:\/\/[\d.:]+)\./.exec(out);
    if (!match?.[1] || url || !out.includes('Ctrl-C stops it')) return;
    url = match[1];
    void fetch(`${url}/v2/demo/app/tags/list`)
      .then((res) => res.json())
      .then((body) => {
        tags = body;
      })
      .finally(stop);
  });
  expect(code, stdout).toBe(0);
  expect(tags).toEqual({ name: 'demo/app', tags: expect.arrayContaining(['latest', 'v1']) });
  await expect(fetch(`${url}/v2/`)).rejects.toThrow();
});

test('an unknown argument is a usage error naming it', async () => {
  const { code, stderr } = await demo(['--kep']);
  expect(code).toBe(2);
  expect(stderr).toContain('demo: unknown argument "--kep"');
  expect(stderr).toContain('usage: npm run demo [-- --keep]');
});
