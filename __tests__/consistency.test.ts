import { afterEach, expect, test } from 'vitest';
import { ConsistencyWait, REPORT_FIRST_MS, REPORT_MAX_GAP_MS } from '../src/consistency.js';
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
  // The first waiting line names the limit and how to change it.
  expect(w.stamped[0]?.line).toBe(
    `reg.test/org/app@${w.image.digest} is not served yet; waiting for it up to 60 s ` +
      '(wait-timeout; set it, e.g. to 5m, to wait longer)',
  );
  // Served well within the report interval: nothing said about still waiting.
  expect(w.wait.waitedMs).toBeLessThan(REPORT_FIRST_MS);
  expect(w.waiting()).toEqual([]);
});

test('only the first digest found missing names the limit', async () => {
  const w = world();
  const other = w.registry.pushImage('org/app', { platform: 'linux/arm64' });
  w.registry.hide(w.image.digest, 2);
  w.registry.hide(other.digest, 2);

  await w.wait.manifest(w.repo, w.image.digest as Digest);
  await w.wait.manifest(w.repo, other.digest as Digest);

  expect(w.stamped.map((s) => s.line)).toEqual([
    expect.stringMatching(/^reg\.test\/org\/app@sha256:\w+ is not served yet; waiting for it up to 60 s \(/),
    `reg.test/org/app@${other.digest} is not served yet; waiting for it`,
  ]);
});

test('a long wait names the digests still missing less and less often: 7 lines in 2 minutes', async () => {
  const w = world(120_000);
  const never = sha256(Buffer.from('never pushed'));

  await w.wait.manifest(w.repo, never).catch(() => undefined);

  expect(w.clock.now()).toBeGreaterThanOrEqual(120_000);
  const lines = w.waiting();
  expect(lines[0]?.at).toBeGreaterThanOrEqual(REPORT_FIRST_MS);
  expect(lines[0]?.line).toBe(`still waiting after 2 s of 120 s for 1 digest: reg.test/org/app@${never}`);
  // Each gap is at least the time waited before it (the wait doubles between lines), up to REPORT_MAX_GAP_MS.
  for (let i = 1; i < lines.length; i++) {
    const gap = (lines[i]?.at ?? 0) - (lines[i - 1]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(Math.min(lines[i - 1]?.at ?? 0, REPORT_MAX_GAP_MS));
  }
  expect(lines.length).toBeGreaterThanOrEqual(5);
  expect(lines.length).toBeLessThanOrEqual(7);
  // Polling went on all the while, with HEAD only: one GET before the wait.
  expect(w.registry.requests('org/app', 'manifests/', 'HEAD').length).toBeGreaterThan(lines.length * 2);
  expect(w.registry.requests('org/app', 'manifests/', 'GET').map((r) => r.status)).toEqual([404]);
});

test('a repository the registry does not know (NAME_UNKNOWN) is named as a likely typo in image', async () => {
  const w = world();
  w.registry.nameUnknown = true;
  const typo = w.registry.repo('org/ap');
  const never = sha256(Buffer.from('never pushed'));

  await w.wait.manifest(typo, never).catch(() => undefined);

  expect(w.stamped[0]?.line).toBe(
    `reg.test/org/ap@${never} is not served yet: reg.test does not know the repository org/ap ` +
      '(NAME_UNKNOWN); is "image" misspelt?; waiting for it up to 60 s (wait-timeout; set it, e.g. to 5m, to wait longer)',
  );
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
  expect(w.waiting().at(-1)?.line).toContain(`1 digest: reg.test/org/app@${never}`);
});

test('head resolves the descriptor of a manifest once it is served, without a GET', async () => {
  const w = world();
  w.registry.hide(w.image.digest, 2);

  const descriptor = await w.wait.head(w.repo, w.image.digest as Digest);

  expect(descriptor).toEqual({ mediaType: w.image.mediaType, digest: w.image.digest, size: w.image.size });
  expect(w.registry.log.map((r) => r.method)).toEqual(['HEAD', 'HEAD', 'HEAD']);
});
