import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from '../log.js';
import { MAX_ERROR_BODY, redactUrl } from './errors.js';
import { discard, type HttpRequest, type HttpResponse, type Transport } from './http.js';
import { reclaimAfter } from './reclaim.js';

/**
 * Blob uploads into a registry, streamed: one PUT with the whole blob (what every registry takes, and the only
 * style GAR has), or PATCH chunks then a closing PUT for registries that refuse large bodies (ACR answers 413
 * above about 20 MB). Bounded by progress: a source that moves no byte for `stallMs` cuts the upload.
 */

/** Chunk size for chunked uploads; halved on a 413 down to MIN_CHUNK_BYTES (or the registry's minimum). */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
const MIN_CHUNK_BYTES = 64 * 1024;
/**
 * The largest chunk held in memory, whatever is asked (an option, or a registry's OCI-Chunk-Min-Length): each
 * chunked copy holds one buffer of its chunk size, so copies in flight times this bounds their memory.
 */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/** What an upload needs from the client: one transport, credentials for a URL, errors in the client's form. */
export interface UploadContext {
  readonly transport: Transport;
  readonly log: Logger;
  readonly userAgent: string;
  /** The Authorization for this URL, or undefined when it is another origin than the registry's. */
  authorization(url: string): Promise<string | undefined>;
  /** Ends each request at the deadline. */
  signal(): AbortSignal;
  failure(request: HttpRequest, response: HttpResponse): Error;
}

/** A blob copy that stopped moving. */
export class StallError extends Error {
  override readonly name = 'StallError';
}

/** The source of a copy: its body, its size when known, and a name for messages. */
export interface BlobSource {
  readonly body: Readable;
  readonly size: number | undefined;
  readonly what: string;
}

/** Uploads the whole blob in one PUT to `url` (which carries `?digest=`). */
export async function putWhole(
  context: UploadContext,
  url: string,
  source: BlobSource,
  stallMs: number,
): Promise<HttpResponse> {
  const stall = stallWatch(source.body, source.what, stallMs);
  const authorization = await context.authorization(url);
  const request: HttpRequest = {
    method: 'PUT',
    url,
    headers: {
      'user-agent': context.userAgent,
      'content-type': 'application/octet-stream',
      ...(source.size !== undefined ? { 'content-length': String(source.size) } : {}),
      ...(authorization ? { authorization } : {}),
    },
    body: stall.body,
    signal: AbortSignal.any([stall.signal, context.signal()]),
  };
  try {
    const response = await context.transport.send(request, MAX_ERROR_BODY);
    context.log.debug(`PUT ${redactUrl(url)} -> ${response.status} (${source.what})`);
    return response;
  } catch (error) {
    throw stall.reason() ?? error;
  } finally {
    stall.stop();
    // A PUT refused before it read the whole blob leaves the source open: close it.
    if (!source.body.readableEnded) discard(source.body);
  }
}

/**
 * Uploads in PATCH chunks, then closes with a PUT carrying `digest`. A chunk refused with 413 is sent again in
 * halves (each chunk is held in memory, so it can be), and later chunks keep the smaller size.
 */
export async function putChunked(
  context: UploadContext,
  location: string,
  digest: string,
  source: BlobSource,
  options: { readonly stallMs: number; readonly chunkBytes: number; readonly minChunkBytes?: number },
): Promise<HttpResponse> {
  const floor = Math.max(MIN_CHUNK_BYTES, options.minChunkBytes ?? 0);
  if (floor > MAX_CHUNK_BYTES) {
    discard(source.body);
    throw new Error(
      `${source.what}: the registry takes chunks of at least ${floor} bytes (OCI-Chunk-Min-Length), more than the ` +
        `${MAX_CHUNK_BYTES} held in memory for an upload: check the registry's upload settings`,
    );
  }
  const size = Math.min(MAX_CHUNK_BYTES, Math.max(floor, options.chunkBytes));
  const state = { url: location, offset: 0, size };
  const stall = stallWatch(source.body, source.what, options.stallMs);
  try {
    for await (const chunk of chunksOf(stall.body, Buffer.allocUnsafe(size), () => state.size)) {
      await patch(context, state, chunk, floor);
    }
  } catch (error) {
    throw stall.reason() ?? error;
  } finally {
    stall.stop();
    if (!source.body.readableEnded) discard(source.body);
  }
  const closing = new URL(state.url);
  closing.searchParams.set('digest', digest);
  return send(context, 'PUT', closing.toString(), Buffer.alloc(0), {});
}

async function patch(
  context: UploadContext,
  state: { url: string; offset: number; size: number },
  chunk: Buffer,
  floor: number,
): Promise<void> {
  const end = state.offset + chunk.length - 1;
  const response = await send(context, 'PATCH', state.url, chunk, {
    'content-range': `${state.offset}-${end}`,
  });
  if (response.status === 413 && chunk.length / 2 >= floor) {
    // The halves are cut here, once: a nested 413 shrinks state.size for later chunks, not this split.
    const half = Math.max(floor, Math.floor(chunk.length / 2));
    state.size = half;
    context.log.debug(`a ${chunk.length}-byte chunk was refused (413); sending ${half}-byte chunks`);
    await patch(context, state, chunk.subarray(0, half), floor);
    await patch(context, state, chunk.subarray(half), floor);
    return;
  }
  if (response.status !== 202 && response.status !== 204) {
    throw context.failure({ method: 'PATCH', url: state.url, headers: {} }, response);
  }
  const location = response.headers['location'];
  if (location) state.url = new URL(location, state.url).toString();
  state.offset = end + 1;
}

async function send(
  context: UploadContext,
  method: 'PUT' | 'PATCH',
  url: string,
  body: Buffer,
  extra: Record<string, string>,
): Promise<HttpResponse> {
  const authorization = await context.authorization(url);
  const request: HttpRequest = {
    method,
    url,
    headers: {
      'user-agent': context.userAgent,
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
      ...extra,
      ...(authorization ? { authorization } : {}),
    },
    body,
    signal: context.signal(),
  };
  const response = await context.transport.send(request, MAX_ERROR_BODY);
  context.log.debug(`${method} ${redactUrl(url)} -> ${response.status} (${body.length} bytes)`);
  return response;
}

/**
 * Splits a stream into chunks of `size()` bytes (the last one shorter; `size()` only shrinks), each copied into
 * `buffer`, the one buffer this upload holds: a chunk is valid until the next is asked for (the caller sends each
 * before it asks for the next).
 */
export async function* chunksOf(body: Readable, buffer: Buffer, size: () => number): AsyncGenerator<Buffer> {
  let filled = 0;
  for await (const data of body as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < data.length) {
      const copied = data.copy(buffer, filled, offset, offset + Math.max(0, size() - filled));
      filled += copied;
      offset += copied;
      if (filled >= size()) {
        yield buffer.subarray(0, filled);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** Passes a stream through, and aborts when no byte moved for `stallMs`. */
function stallWatch(body: Readable, what: string, stallMs: number) {
  const controller = new AbortController();
  const through = new PassThrough();
  let stalled: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (data?: Buffer) => {
    if (data) reclaimAfter(data.length);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const limit = stallMs >= 1000 ? `${Math.round(stallMs / 1000)} s` : `${stallMs} ms`;
      stalled = new StallError(`${what}: no data moved for ${limit}; the copy was cut`);
      controller.abort(stalled);
      through.destroy(stalled);
      discard(body);
    }, stallMs);
  };
  body.on('data', arm);
  body.on('error', (error) => through.destroy(error));
  body.pipe(through);
  arm();
  return {
    body: through as Readable,
    signal: controller.signal,
    reason: () => stalled,
    stop: () => clearTimeout(timer),
  };
}
