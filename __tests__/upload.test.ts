import { Readable } from 'node:stream';
import { expect, test } from 'vitest';
import { Slots } from '../src/registry/slots.js';
import { chunksOf, MAX_CHUNK_BYTES, putChunked, type UploadContext } from '../src/registry/upload.js';
import { recordingLogger } from './helpers/client.js';

/** Bounded memory for blob copies: one fixed buffer per chunked upload, and a few copies at a time. */

const bytes = (length: number, fill: number) => Buffer.alloc(length, fill);

test('chunksOf cuts a stream into chunks of the asked size, all held in the one buffer it is given', async () => {
  const body = Readable.from([bytes(5, 1), bytes(7, 2), bytes(1, 3)]);
  const buffer = Buffer.alloc(4);
  const seen: { text: string; shared: boolean }[] = [];
  for await (const chunk of chunksOf(body, buffer, () => 4)) {
    seen.push({ text: chunk.toString('hex'), shared: chunk.buffer === buffer.buffer });
  }
  expect(seen.map((s) => s.text)).toEqual(['01010101', '01020202', '02020202', '03']);
  expect(seen.every((s) => s.shared)).toBe(true);
});

test('chunksOf follows a size that shrinks between chunks (a 413 halved it)', async () => {
  const body = Readable.from([bytes(8, 1), bytes(8, 2)]);
  let size = 8;
  const lengths: number[] = [];
  for await (const chunk of chunksOf(body, Buffer.alloc(8), () => size)) {
    lengths.push(chunk.length);
    size = 3;
  }
  expect(lengths).toEqual([8, 3, 3, 2]);
});

test('a registry asking for chunks larger than MAX_CHUNK_BYTES is refused before anything is sent, named', async () => {
  const sent: string[] = [];
  const context: UploadContext = {
    transport: {
      send: async (request) => {
        sent.push(request.method);
        return { status: 202, headers: {}, body: new Uint8Array() };
      },
      stream: async () => {
        throw new Error('not used');
      },
    },
    log: recordingLogger(),
    userAgent: 'test',
    authorization: async () => undefined,
    signal: () => new AbortController().signal,
    failure: () => new Error('failure'),
  };
  const source = { body: Readable.from([bytes(16, 1)]), size: 16, what: 'src/app@sha256:ab -> dst/app' };
  await expect(
    putChunked(context, 'http://registry.test/v2/dst/app/blobs/uploads/1', 'sha256:ab', source, {
      stallMs: 1000,
      chunkBytes: 1024,
      minChunkBytes: MAX_CHUNK_BYTES + 1,
    }),
  ).rejects.toThrow(
    `src/app@sha256:ab -> dst/app: the registry takes chunks of at least ${MAX_CHUNK_BYTES + 1} bytes`,
  );
  expect(sent).toEqual([]);
});

test('Slots runs at most its size at once, the rest in order as slots free, after failures too', async () => {
  const slots = new Slots(2);
  const started: number[] = [];
  const finish = new Map<number, () => void>();
  const tasks = [0, 1, 2, 3].map((i) =>
    slots.run(
      () =>
        new Promise<number>((resolve, reject) => {
          started.push(i);
          finish.set(i, () => (i === 0 ? reject(new Error('task 0 failed')) : resolve(i)));
        }),
    ),
  );
  await Promise.resolve();
  expect(started).toEqual([0, 1]);
  finish.get(0)?.();
  await expect(tasks[0]).rejects.toThrow('task 0 failed');
  await new Promise((resolve) => setImmediate(resolve));
  expect(started).toEqual([0, 1, 2]);
  finish.get(1)?.();
  finish.get(2)?.();
  await new Promise((resolve) => setImmediate(resolve));
  finish.get(3)?.();
  expect(await Promise.all(tasks.slice(1))).toEqual([1, 2, 3]);
  expect(slots.peak).toBe(2);
});
