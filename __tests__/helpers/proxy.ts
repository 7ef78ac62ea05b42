import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { listenOnLoopback } from './local.js';

/**
 * An HTTP proxy in front of a real registry: it logs every request with timings (to count round trips and
 * concurrency) and lets a handler rewrite, replace or drop responses (fault injection). With `tls` it answers in
 * HTTPS, with that certificate: a TLS registry in front of the plain-HTTP test registry.
 */

export interface ProxiedRequest {
  method: string;
  /** Path plus query string. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  /** 0 when the handler reset the connection. */
  status: number;
  /** performance.now() when the request arrived and just before its response was sent. */
  start: number;
  end: number;
}

/** Returns the response to send, or 'reset' to destroy the client socket. `forward` sends to the target. */
export type ProxyHandler = (
  req: ProxiedRequest,
  forward: (req?: ProxiedRequest) => Promise<ProxyResponse>,
) => Promise<ProxyResponse | 'reset'>;

export interface TestProxy {
  readonly url: string;
  readonly host: string;
  readonly log: RequestLogEntry[];
  /** Client connections accepted so far: each is a TCP (on a real registry, also a TLS) handshake. */
  readonly connections: number;
  setHandler(handler: ProxyHandler | undefined): void;
  close(): Promise<void>;
}

// Connection-level headers that must not be passed through a proxy (RFC 9110 section 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export async function startProxy(
  targetUrl: string,
  options: { handler?: ProxyHandler; latencyMs?: number; tls?: { keyPem: string; certPem: string } } = {},
): Promise<TestProxy> {
  const target = new URL(targetUrl);
  const targetOrigin = target.origin;
  const log: RequestLogEntry[] = [];
  let handler = options.handler;
  let proxyOrigin = '';

  const forward = (req: ProxiedRequest): Promise<ProxyResponse> =>
    new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { ...stripHopByHop(req.headers), host: target.host };
      if (req.body.length > 0 || headers['content-length'] !== undefined) {
        headers['content-length'] = String(req.body.length);
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.path, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const out: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(stripHopByHop(res.headers))) {
              if (value === undefined) continue;
              // Absolute redirects (the registry builds upload URLs from Host) must come back through us.
              const redirectsToTarget =
                name === 'location' && typeof value === 'string' && value.startsWith(targetOrigin);
              out[name] = redirectsToTarget ? proxyOrigin + value.slice(targetOrigin.length) : value;
            }
            resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
          });
        },
      );
      upstream.on('error', reject);
      upstream.end(req.body);
    });

  const onRequest = (clientReq: IncomingMessage, clientRes: ServerResponse): void => {
    const start = performance.now();
    const chunks: Buffer[] = [];
    clientReq.on('data', (chunk: Buffer) => chunks.push(chunk));
    clientReq.on('end', async () => {
      const req: ProxiedRequest = {
        method: clientReq.method ?? 'GET',
        path: clientReq.url ?? '/',
        headers: clientReq.headers,
        body: Buffer.concat(chunks),
      };
      const record = (status: number): void => {
        log.push({ method: req.method, path: req.path, status, start, end: performance.now() });
      };
      let response: ProxyResponse | 'reset';
      try {
        response =
          handler === undefined
            ? await forward(req)
            : await handler(req, (override) => forward(override ?? req));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        response = { status: 502, headers: { 'content-type': 'text/plain' }, body: Buffer.from(message) };
      }
      if (options.latencyMs !== undefined) await sleep(options.latencyMs);
      if (response === 'reset') {
        record(0);
        clientReq.socket.destroy();
        return;
      }
      const headers: Record<string, string | string[]> = { ...response.headers };
      // HEAD and bodiless statuses keep the upstream Content-Length (a blob HEAD reports the blob size).
      const bodiless = req.method === 'HEAD' || response.status === 204 || response.status === 304;
      if (!bodiless) headers['content-length'] = String(response.body.length);
      record(response.status);
      clientRes.writeHead(response.status, headers);
      clientRes.end(bodiless ? undefined : response.body);
    });
  };
  const { tls } = options;
  const server = tls
    ? createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, onRequest)
    : createServer(onRequest);
  let connections = 0;
  server.on('connection', () => {
    connections++;
  });
  const port = await listenOnLoopback(server);
  const host = `127.0.0.1:${port}`;
  proxyOrigin = `${tls ? 'https' : 'http'}://${host}`;

  let closing: Promise<void> | undefined;
  return {
    url: proxyOrigin,
    host,
    log,
    get connections() {
      return connections;
    },
    setHandler(next) {
      handler = next;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * The number of sequential round trips in a log: the longest chain of requests where each one starts after
 * the previous one ended. Requests that overlap count once, so N parallel requests give 1 and N awaited
 * one after another give N.
 */
export function sequentialRoundTrips(log: readonly RequestLogEntry[]): number {
  const entries = [...log].sort((a, b) => a.start - b.start);
  const chain: number[] = [];
  let longest = 0;
  for (const [i, entry] of entries.entries()) {
    let best = 0;
    for (let j = 0; j < i; j++) {
      const before = entries[j];
      if (before !== undefined && before.end <= entry.start) best = Math.max(best, chain[j] ?? 0);
    }
    chain.push(best + 1);
    longest = Math.max(longest, best + 1);
  }
  return longest;
}

/** The most requests that were in flight at the same moment. */
export function maxConcurrency(log: readonly RequestLogEntry[]): number {
  // Ends sort before starts at equal times: a request that ended as another began did not overlap it.
  const events = log.flatMap((e) => [
    { time: e.start, delta: 1 },
    { time: e.end, delta: -1 },
  ]);
  events.sort((a, b) => a.time - b.time || a.delta - b.delta);
  let current = 0;
  let peak = 0;
  for (const event of events) {
    current += event.delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

function stripHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  // Headers named in Connection are hop-by-hop too.
  const named = headers.connection?.toLowerCase().split(/\s*,\s*/) ?? [];
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
