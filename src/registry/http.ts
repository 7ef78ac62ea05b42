import { type Dispatcher, request } from 'undici';

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
}

export interface HttpResponse {
  readonly status: number;
  /** Lowercased names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export class BodyTooLargeError extends Error {
  constructor(
    readonly url: string,
    readonly limit: number,
  ) {
    super(`${url}: response body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export interface Transport {
  /** Sends one request and reads at most `maxBytes` of the body (error bodies are cut, not refused). */
  send(request: HttpRequest, maxBytes: number): Promise<HttpResponse>;
}

/** One request over undici: bounded time, bounded body, no redirects followed (callers decide). */
export function undiciTransport(dispatcher: Dispatcher, timeoutMs: number): Transport {
  return {
    async send(req, maxBytes) {
      const response = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs * 2),
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined)
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      const declared = Number(headers['content-length'] ?? Number.NaN);
      const isError = response.statusCode >= 400;
      if (!isError && declared > maxBytes) {
        response.body.destroy();
        throw new BodyTooLargeError(req.url, maxBytes);
      }
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > maxBytes) {
          response.body.destroy();
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
