import type { Readable } from 'node:stream';
import { redactUrl } from './errors.js';

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A stream is sent as is (blob copies), so the request cannot be repeated: callers retry the whole copy. */
  readonly body?: Uint8Array | string | Readable;
  /**
   * Ends the request, body included. Without it a whole-body request is bounded by twice the transport's
   * timeout; streams are bounded only between chunks.
   */
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  /** Lowercased names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

class BodyTooLargeError extends Error {
  constructor(
    readonly url: string,
    readonly limit: number,
  ) {
    super(`${redactUrl(url)}: response body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export interface StreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body, unread: the caller consumes or destroys it. */
  readonly body: Readable;
}

export interface Transport {
  /** Sends one request and reads at most `maxBytes` of the body (error bodies are cut, not refused). */
  send(request: HttpRequest, maxBytes: number): Promise<HttpResponse>;
  /** Sends one request and hands back the body as a stream, for blobs too large to hold in memory. */
  stream(request: HttpRequest): Promise<StreamResponse>;
}

/** Drops a body unread. The abort shows as an 'error' event, which must not crash the process. */
export function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/** Header values as strings, names lowercased, repeated headers joined with `, `. */
export function flatHeaders(
  raw: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Reads a streamed answer whole, bounded: a success body over `maxBytes` (declared or sent) is refused, an error
 * body is cut there, since only its first bytes are ever shown. An answer to HEAD has no body: its length is the
 * size of what a GET would send (a blob's, gigabytes maybe), not something to read.
 */
export async function readWhole(
  request: HttpRequest,
  answer: StreamResponse,
  maxBytes: number,
): Promise<HttpResponse> {
  const { status, headers, body } = answer;
  const { url } = request;
  const declared = request.method === 'HEAD' ? 0 : Number(headers['content-length'] ?? Number.NaN);
  const isError = status >= 400;
  if (!isError && declared > maxBytes) {
    discard(body);
    throw new BodyTooLargeError(url, maxBytes);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) {
      discard(body);
      if (!isError) throw new BodyTooLargeError(url, maxBytes);
      chunks.push(chunk.subarray(0, chunk.length - (length - maxBytes)));
      length = maxBytes;
      break;
    }
    chunks.push(chunk);
  }
  return { status, headers, body: Buffer.concat(chunks, length) };
}
