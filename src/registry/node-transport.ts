import { channel } from 'node:diagnostics_channel';
import { Agent, type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { flatHeaders, type HttpRequest, readWhole, type StreamResponse, type Transport } from './http.js';
import { httpsProxyEnv } from './proxy-env.js';
import { type Resolve, sharedLookup } from './shared-lookup.js';

/**
 * The transport over Node's own HTTP client: its parser is native and its modules are in the Node binary, so
 * start-up compiles none of it (a bundled HTTP client cost 35 to 45 ms there, docs/benchmarks.md). Connections
 * are kept alive and pooled per origin; nothing is retried or redirected here (callers decide).
 */

/** Published for every request made, then once it is on the wire (src/warm-up.ts listens). */
export const REQUEST_CREATED = channel('manifest-merge:request:created');
export const REQUEST_SENT = channel('manifest-merge:request:sent');

export interface NodeTransport extends Transport {
  /**
   * Closes every connection. Requests still out (a run that failed leaves its parallel requests behind) end with
   * an error that is not worth a retry, as does any request made later.
   */
  close(): void;
}

export interface NodeTransportOptions {
  /** Connecting, waiting for the answer, and every pause in a body, each at most this long. */
  readonly timeoutMs: number;
  /** Connections per origin. */
  readonly maxSockets: number;
  /**
   * The environment whose `HTTPS_PROXY` and `NO_PROXY` (either case) route https requests through a proxy's
   * tunnel, where TLS still runs end to end. Plain-HTTP origins never go through a proxy: they are registries on a
   * network the user trusts, and a proxy would read their credentials.
   */
  readonly proxyEnv?: Readonly<Record<string, string | undefined>>;
  /** The system resolver unless given: where host names are looked up, once per burst (src/registry/shared-lookup.ts). */
  readonly resolve?: Resolve;
}

/** Methods that send a body, so an empty one is declared as `content-length: 0` rather than chunked. */
const BODY_METHODS = new Set(['PUT', 'POST', 'PATCH']);

export function nodeTransport(options: NodeTransportOptions): NodeTransport {
  const agents = new Map<boolean, Agent>();
  const lookup = sharedLookup(options.resolve);
  /** How to end each request still out. */
  const out = new Set<(error: Error) => void>();
  let closed = false;
  const agentFor = (https: boolean): Agent => {
    let agent = agents.get(https);
    if (agent === undefined) {
      const { maxSockets, proxyEnv } = options;
      const proxy = proxyEnv && httpsProxyEnv(proxyEnv);
      // node:https loads node:tls, 20 ms or more: only once an https origin is asked for.
      agent = https
        ? new (process.getBuiltinModule('node:https').Agent)({
            keepAlive: true,
            maxSockets,
            lookup,
            ...(proxy ? { proxyEnv: proxy } : {}),
          })
        : new Agent({ keepAlive: true, maxSockets, lookup });
      agents.set(https, agent);
    }
    return agent;
  };

  const open = (req: HttpRequest, whole: boolean): Promise<StreamResponse> =>
    new Promise((resolve, reject) => {
      const signal = req.signal ?? (whole ? AbortSignal.timeout(options.timeoutMs * 2) : undefined);
      if (closed || signal?.aborted) {
        reject(closed ? closedError() : signal?.reason);
        return;
      }
      const url = new URL(req.url);
      const https = url.protocol === 'https:';
      const request: ClientRequest = (https ? process.getBuiltinModule('node:https').request : httpRequest)({
        protocol: url.protocol,
        // URL keeps the brackets of an IPv6 literal; a socket address has none.
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: withLength(req),
        agent: agentFor(https),
        // Applies from the start of the connection: the connect timeout, then the wait for each answer chunk.
        timeout: options.timeoutMs,
      });
      if (REQUEST_CREATED.hasSubscribers) REQUEST_CREATED.publish(undefined);

      let response: IncomingMessage | undefined;
      let ended = false;
      const destroy = (error: Error): void => {
        if (ended) return;
        response?.destroy(error);
        request.destroy(error);
      };
      out.add(destroy);
      request.on('close', () => out.delete(destroy));
      const onAbort = (): void => destroy(signal?.reason);
      const end = (): void => {
        ended = true;
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      request.on('timeout', () => {
        const connecting = request.socket?.connecting !== false;
        destroy(
          connecting
            ? networkError('ETIMEDOUT', `connecting took more than ${options.timeoutMs} ms`)
            : response
              ? networkError('BODY_TIMEOUT', `the body paused for more than ${options.timeoutMs} ms`)
              : networkError('HEADERS_TIMEOUT', `no answer within ${options.timeoutMs} ms`),
        );
      });
      // Stays attached for the request's whole life: an error after the answer is the body's to report.
      request.on('error', (error) => {
        if (response === undefined) {
          end();
          reject(error);
        }
      });
      request.on('finish', () => {
        if (REQUEST_SENT.hasSubscribers) REQUEST_SENT.publish(undefined);
      });
      request.on('response', (res) => {
        response = res;
        res.on('close', end);
        resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: res });
      });

      const { body } = req;
      if (isStream(body)) {
        // A failing source (a stalled copy) ends the request with its own error; a failed request ends the source.
        body.on('error', destroy);
        request.on('error', () => body.destroy());
        body.pipe(request);
      } else {
        request.end(body);
      }
    });

  return {
    stream: (req) => open(req, false),
    send: async (req, maxBytes) => readWhole(req, await open(req, true), maxBytes),
    close() {
      closed = true;
      for (const destroy of out) destroy(closedError());
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

function isStream(body: HttpRequest['body']): body is Readable {
  return typeof (body as Readable | undefined)?.pipe === 'function';
}

/** The request's headers, with the length of a whole body (a stream's is the caller's to give, or chunked). */
function withLength(req: HttpRequest): Record<string, string> {
  const { body } = req;
  if (isStream(body) || (body === undefined && !BODY_METHODS.has(req.method))) return { ...req.headers };
  const length =
    body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  return { ...req.headers, 'content-length': String(length) };
}

/** Has no network code, so no retry layer takes it for a passing fault. */
function closedError(): Error {
  return new Error('the connection to the registry was closed: the run has ended');
}

function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
