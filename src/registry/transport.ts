import { setImmediate as nextTurn } from 'node:timers/promises';
import { Agent, type Dispatcher, ProxyAgent, request } from 'undici';
import { flatHeaders, type HttpRequest, readWhole, type StreamResponse, type Transport } from './http.js';
import type { ProxyChoice } from './proxy-env.js';
import { type Resolve, sharedLookup } from './shared-lookup.js';

/**
 * The product's one HTTP client, on undici: connections kept alive and pooled per origin, each request bounded
 * in time (connecting, waiting for the answer, every pause in a body) and in size (src/registry/http.ts), host
 * names looked up once per burst. Nothing is retried or redirected here (callers decide).
 */

export interface OwnedTransport extends Transport {
  /**
   * Closes every connection. Requests still out (a run that failed leaves its parallel requests behind) end with
   * an error that is not worth a retry, as does any request made later.
   */
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Connecting, waiting for the answer, and every pause in a body, each at most this long. */
  readonly timeoutMs: number;
  /** Connections per origin. */
  readonly connections: number;
  /**
   * The proxy https requests go through, as src/registry/proxy-env.ts chose it. Plain-HTTP origins never go
   * through a proxy: they are registries on a network the user trusts, and a proxy would read their credentials.
   */
  readonly proxy?: ProxyChoice | undefined;
  /** The system resolver unless given: where host names are looked up, once per burst (src/registry/shared-lookup.ts). */
  readonly resolve?: Resolve;
}

export function undiciTransport(options: TransportOptions): OwnedTransport {
  const { timeoutMs, connections, proxy } = options;
  const lookup = sharedLookup(options.resolve);
  const pooled = {
    connections,
    headersTimeout: timeoutMs,
    // Between chunks, not for the whole body: a large layer may take long but must keep moving.
    bodyTimeout: timeoutMs,
  };
  const direct = new Agent({ ...pooled, connect: { timeout: timeoutMs, lookup } });
  let tunnel: ProxyAgent | undefined;
  let closed = false;

  const dispatcherFor = (url: URL): Dispatcher => {
    if (url.protocol !== 'https:' || proxy?.url === undefined || proxy.bypass(url)) return direct;
    // TLS runs end to end through the proxy's CONNECT tunnel; the proxy's own host is looked up like any other.
    tunnel ??= new ProxyAgent({
      ...pooled,
      uri: proxy.url.href,
      connectTimeout: timeoutMs,
      proxyTls: { lookup },
    });
    return tunnel;
  };

  const open = async (req: HttpRequest, whole: boolean): Promise<StreamResponse> => {
    if (closed) throw closedError();
    const url = new URL(req.url);
    const dispatcher = dispatcherFor(url);
    const signal = req.signal ?? (whole ? AbortSignal.timeout(timeoutMs * 2) : undefined);
    try {
      const response = await request(url, {
        dispatcher,
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        // undici closes a connection after HEAD by default (for servers that send a body anyway); registries do
        // not, and a wait polls with HEAD, so the connection is kept for the next request.
        ...(req.method === 'HEAD' ? { reset: false } : {}),
        ...(signal ? { signal } : {}),
      });
      return { status: response.statusCode, headers: flatHeaders(response.headers), body: response.body };
    } catch (error) {
      if (closed) throw closedError();
      throw dispatcher === tunnel ? tunnelError(error, url, proxy) : error;
    }
  };

  return {
    stream: (req) => open(req, false),
    async send(req, maxBytes) {
      const answer = await readWhole(req, await open(req, true), maxBytes);
      // undici puts the connection back in its pool one turn after the body ends: a request the caller makes as
      // soon as it has this answer (a manifest's config) would open another connection, up to 1.5N for N sources.
      await nextTurn();
      return answer;
    },
    async close() {
      closed = true;
      const error = closedError();
      await Promise.all([direct.destroy(error), tunnel?.destroy(error)]);
    },
  };
}

/** Has no network code, so no retry layer takes it for a passing fault. */
function closedError(): Error {
  return new Error('the connection to the registry was closed: the run has ended');
}

/**
 * A proxy that refused the tunnel, as undici reports it (only in its message: `Proxy response (403) !== 200`, or
 * `Proxy Authentication Required (407)`), becomes ERR_PROXY_TUNNEL with the status and the variable that set
 * the proxy, for src/registry/network.ts to explain.
 */
function tunnelError(error: unknown, url: URL, proxy: ProxyChoice | undefined): unknown {
  const message = error instanceof Error ? error.message : '';
  const status = /Proxy response \((\d{3})\)|Proxy Authentication Required \((\d{3})\)/.exec(message);
  if (!status) return error;
  return Object.assign(new Error(`the proxy refused a tunnel to ${url.host}`, { cause: error }), {
    code: 'ERR_PROXY_TUNNEL',
    statusCode: Number(status[1] ?? status[2]),
    variable: proxy?.variable,
  });
}
