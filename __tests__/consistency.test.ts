import { afterEach, expect, test } from 'vitest';
import { ConsistencyWait, REPORT_EVERY_MS } from '../src/consistency.js';
import type { Logger } from '../src/log.js';
import type { Digest } from '../src/registry/digest.js';
import { isLag } from '../src/registry/errors.js';
import { recordingLogger } from './helpers/client.js';
import { scriptedWorld, sha256 } from './helpers/scripted-registry.js';

/** ConsistencyWait against a scripted registry whose digests appear late; all waits on the fake clock. */

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A world whose logger stamps each info line with the fake time it was logged at. */
function world(waitMs?: number) {
  const inner = recordingLogger();
  const stamped: { at: number; line: string }[] = [];
  let now = () => 0;
  const log: Logger = { ...inner, info: (line) => stamped.push({ at: now(), line }) };
  const w = scriptedWorld(['reg.test'], { log, ...(waitMs ? { waitMs } : {}) });
  now = w.clock.now;
  closers.push(w.close);
  const image = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  const waiting = () => stamped.filter((s) => s.line.startsWith('still waiting'));
  return {
    ...w,
    image,
    stamped,
    waiting,
    wait: new ConsistencyWait(w.context),
    repo: w.registry.repo('org/app'),
  };
}

test('a manifest hidden for 3 requests: one GET refused, HEAD polls, then one GET that returns its bytes', async () => {
  const w = world();
  w.registry.hide(w.image.digest, 3);

  const fetched = await w.wait.manifest(w.repo, w.image.digest as Digest);

  expect(Buffer.from(fetched.bytes).equals(w.image.bytes)).toBe(true);
  expect(fetched.descriptor).toEqual({
    mediaType: w.image.mediaType,
    digest: w.image.digest,
    size: w.image.size,
  });
  const calls = w.registry.requests('org/app', 'manifests/').map((r) => `${r.method} ${r.status}`);
  expect(calls).toEqual(['GET 404', 'HEAD 404', 'HEAD 404', 'HEAD 200', 'GET 200']);
  expect(w.wait.waitedMs).toBeGreaterThan(0);
  expect(w.stamped[0]?.line).toBe(`reg.test/org/app@${w.image.digest} is not served yet; waiting for it`);
  // Served well within the report interval: nothing said about still waiting.
  expect(w.wait.waitedMs).toBeLessThan(REPORT_EVERY_MS);
  expect(w.waiting()).toEqual([]);
});

test('a long wait says which digest it is still waiting for, once 2 s passed and then every 2 s', async () => {
  const w = world();
  w.registry.hide(w.image.digest, 60);

  await w.wait.manifest(w.repo, w.image.digest as Digest);

  expect(w.clock.now()).toBeGreaterThan(2 * REPORT_EVERY_MS);
  const lines = w.waiting();
  expect(lines.length).toBeGreaterThanOrEqual(1);
  expect(lines[0]?.at).toBeGreaterThanOrEqual(REPORT_EVERY_MS);
  expect(lines[0]?.line).toBe(`still waiting after 2s for 1 digest(s): reg.test/org/app@${w.image.digest}`);
  for (let i = 1; i < lines.length; i++) {
    expect((lines[i]?.at ?? 0) - (lines[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(REPORT_EVERY_MS);
  }
  // Polling used HEAD only: one GET before the wait and one after.
  expect(w.registry.requests('org/app', 'manifests/', 'GET').map((r) => r.status)).toEqual([404, 200]);
});

test('a digest never served is given up at the deadline with a lag error', async () => {
  const w = world(10_000);
  const never = sha256(Buffer.from('never pushed'));

  const error = await w.wait.manifest(w.repo, never).then(
    () => undefined,
    (e: unknown) => e,
  );

  expect(isLag(error)).toBe(true);
  expect(w.clock.now()).toBeGreaterThanOrEqual(w.context.deadline);
  expect(w.registry.requests('org/app', 'manifests/', 'HEAD').length).toBeGreaterThan(1);
  expect(w.waiting().at(-1)?.line).toContain(`1 digest(s): reg.test/org/app@${never}`);
});

test('head resolves the descriptor of a manifest once it is served, without a GET', async () => {
  const w = world();
  w.registry.hide(w.image.digest, 2);

  const descriptor = await w.wait.head(w.repo, w.image.digest as Digest);

  expect(descriptor).toEqual({ mediaType: w.image.mediaType, digest: w.image.digest, size: w.image.size });
  expect(w.registry.log.map((r) => r.method)).toEqual(['HEAD', 'HEAD', 'HEAD']);
});
