import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { systemClock } from '../src/clock.js';
import { COPIES_PER_REGISTRY, RegistryClient } from '../src/registry/client.js';
import type { Digest } from '../src/registry/digest.js';
import { recordingLogger, repoAt, withClient } from './helpers/client.js';
import { type HostileServer, startHostile } from './helpers/hostile.js';
import { pushBlob } from './helpers/images.js';
import { lockstep } from './helpers/lockstep.js';
import { maxConcurrency, startProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

/**
 * SPEC Guarantee 7: a blob copy between registries is bounded by its progress, never by a fixed total time.
 * The source is a scripted registry that streams the blob slowly; the target is a real registry.
 */

let reg: TestRegistry;
let source: HostileServer;

beforeAll(async () => {
  reg = await startRegistry();
  source = await startHostile();
});
afterAll(async () => {
  await source?.close();
  await reg?.stop();
});

const CHUNKS = Array.from({ length: 12 }, (_, i) => Buffer.alloc(4096, i + 1));
const BLOB = Buffer.concat(CHUNKS);
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}` as Digest;

function client(options: { timeoutMs: number; stallMs: number }) {
  const log = recordingLogger();
  return {
    log,
    client: new RegistryClient({ credentials: async () => undefined, log, clock: systemClock, ...options }),
  };
}

/** The source answers every request with the blob, one of CHUNKS every `everyMs` (the first `count` only, if given). */
function trickleBlob(everyMs: number, count?: number): void {
  source.setHandler(() => ({
    kind: 'trickle',
    status: 200,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(BLOB.length) },
    chunk: (i) => CHUNKS[i] ?? Buffer.alloc(0),
    everyMs,
    ...(count === undefined ? {} : { count }),
  }));
}

async function served(repo: string): Promise<number> {
  return (await fetch(`${reg.url}/v2/${repo}/blobs/${DIGEST}`, { method: 'HEAD' })).status;
}

test('a copy that keeps moving is not cut, however long it takes against the request timeout', async () => {
  // 12 chunks 100 ms apart take about 1.2 s; the per-request timeout is 0.3 s (a whole answer was cut at
  // twice that before), and the stall limit is far above the gap between chunks.
  trickleBlob(100, CHUNKS.length);
  const { client: c } = client({ timeoutMs: 300, stallMs: 5_000 });
  try {
    await c.copyBlob(repoAt(source.host, 'src/app'), repoAt(reg.host, 'copy/steady'), DIGEST, {
      deadline: systemClock.now() + 20_000,
    });
  } finally {
    await c.close();
  }
  expect(await served('copy/steady')).toBe(200);
});

test('a copy that stops moving is cut and named, retried, and given up at the deadline', async () => {
  // One chunk, then silence far longer than the stall limit.
  trickleBlob(60_000);
  const before = source.log.length;
  const { client: c, log } = client({ timeoutMs: 30_000, stallMs: 300 });
  let error: unknown;
  try {
    await c
      .copyBlob(repoAt(source.host, 'src/app'), repoAt(reg.host, 'copy/stalled'), DIGEST, {
        deadline: systemClock.now() + 1_500,
      })
      .catch((e: unknown) => {
        error = e;
      });
  } finally {
    await c.close();
  }
  expect(String(error)).toContain('no data moved for 300 ms; the copy was cut');
  expect(String(error)).toContain(`${source.host}/src/app@${DIGEST} -> ${reg.host}/copy/stalled`);
  // Cut and tried again: more than one read of the source, each one ended by the stall, not by a timeout.
  expect(source.log.length - before).toBeGreaterThan(1);
  expect(log.lines.some((line) => line.includes('retrying'))).toBe(true);
  expect(await served('copy/stalled')).toBe(404);
});

test('copies into one registry run at most COPIES_PER_REGISTRY at a time, and that many together', async () => {
  // The target behind a proxy answering in lockstep rounds: copies started together arrive in one round, so the
  // most uploads in flight at once is exactly how many copies ran together, whatever the timing.
  const far = await startRegistry();
  const proxy = await startProxy(reg.url, { handler: lockstep({ quietMs: 150 }).handler });
  try {
    const blobs = await Promise.all(
      Array.from({ length: 3 * COPIES_PER_REGISTRY }, (_, i) =>
        pushBlob(far, 'many/src', Buffer.alloc(64 * 1024, i + 1)),
      ),
    );
    await withClient({}, async (client) => {
      await Promise.all(
        blobs.map((digest) =>
          client.copyBlob(repoAt(far.host, 'many/src'), repoAt(proxy.host, 'many/copy'), digest as Digest, {
            deadline: systemClock.now() + 30_000,
          }),
        ),
      );
      expect(client.copySlots.get(proxy.host)?.peak).toBe(COPIES_PER_REGISTRY);
    });
    const uploads = (method: string) =>
      proxy.log.filter((e) => e.method === method && e.path.includes('/blobs/uploads/'));
    expect(uploads('POST')).toHaveLength(blobs.length);
    expect(maxConcurrency(uploads('POST'))).toBe(COPIES_PER_REGISTRY);
    expect(maxConcurrency(uploads('PUT'))).toBe(COPIES_PER_REGISTRY);
    for (const digest of blobs) {
      expect((await fetch(`${reg.url}/v2/many/copy/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    }
  } finally {
    await proxy.close();
    await far.stop();
  }
});
