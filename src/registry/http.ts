import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { redactUrl } from './errors.js';
import { request } from './undici.js';

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

/** Drops a body unread. undici reports the abort as an 'error' event, which must not crash the process. */
export function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/** One request over undici: bounded time, bounded body, no redirects followed (callers decide). */
export function undiciTransport(dispatcher: Dispatcher, timeoutMs: number): Transport {
  const open = async (req: HttpRequest, whole: boolean) => {
    const response = await request(dispatcher, req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body ?? null,
      headersTimeout: timeoutMs,
      // Between chunks, not for the whole body: a large layer may take long but must keep moving.
      bodyTimeout: timeoutMs,
      ...(req.signal ? { signal: req.signal } : whole ? { signal: AbortSignal.timeout(timeoutMs * 2) } : {}),
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { response, headers };
  };
  return {
    async stream(req) {
      const { response, headers } = await open(req, false);
      return { status: response.statusCode, headers, body: response.body };
    },
    async send(req, maxBytes) {
      const { response, headers } = await open(req, true);
      const declared = Number(headers['content-length'] ?? Number.NaN);
      const isError = response.statusCode >= 400;
      if (!isError && declared > maxBytes) {
        discard(response.body);
        throw new BodyTooLargeError(req.url, maxBytes);
      }
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > maxBytes) {
          discard(response.body);
          if (!isError) throw new BodyTooLargeError(req.url, maxBytes);
          chunks.push(chunk.subarray(0, chunk.length - (length - maxBytes)));
          length = maxBytes;
          break;
        }
        chunks.push(chunk);
      }
      return { status: response.statusCode, headers, body: Buffer.concat(chunks, length) };
    },
  };
}
