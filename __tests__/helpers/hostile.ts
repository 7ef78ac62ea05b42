import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { listenOnLoopback, makeTempDir, removeTempDir, selfSignedCert } from './local.js';
import { errorBody } from './registry-errors.js';

/**
 * A scripted server on 127.0.0.1 for the cases a real registry cannot produce: a handler decides every answer,
 * including resetting the connection, never answering, or trickling a body. HTTPS uses a throwaway self-signed
 * certificate that a child process trusts through NODE_EXTRA_CA_CERTS=caPath. The plain variant is a normal
 * node:http server, so a TLS client talking to it fails the way it does against an HTTP-only registry.
 */

export interface HostileRequest {
  method: string;
  /** Path plus query string. */
  path: string;
  /** Lowercased names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type HostileHeaders = Record<string, string | string[]>;

/**
 * An ordinary answer. Content-Length is set from the body unless `headers` names one (so a test can lie about
 * it); HEAD gets the same Content-Length and no body, 204/304 get neither.
 */
export interface PlainReply {
  status: number;
  headers?: HostileHeaders;
  body?: string | Buffer;
}

/** Destroys the socket without answering. */
export interface ResetReply {
  kind: 'reset';
}

/** Never answers; close() still ends the connection. */
export interface HangReply {
  kind: 'hang';
}

/**
 * Sends the status and headers at once (chunked unless `headers` has a Content-Length), then one chunk every
 * `everyMs`, and ends the response after `count` chunks; without `count` it goes on until the client goes away
 * or close(). `chunk` may be a function of the chunk's index (0, 1, ...).
 */
export interface TrickleReply {
  kind: 'trickle';
  status: number;
  headers?: HostileHeaders;
  chunk: string | Buffer | ((index: number) => string | Buffer);
  everyMs: number;
  count?: number;
}

export type HostileReply = PlainReply | ResetReply | HangReply | TrickleReply;

export type HostileHandler = (req: HostileRequest) => Promise<HostileReply> | HostileReply;

export interface HostileLogEntry {
  method: string;
  path: string;
  /** Lowercased names, including authorization. */
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** 0 for reset and hang, and while the handler has not answered yet; 500 when the handler threw. */
  status: number;
}

/** A certificate and its key; `caPath` is the certificate's file, for NODE_EXTRA_CA_CERTS. */
export interface HostileCert {
  keyPem: string;
  certPem: string;
  caPath: string;
}

export interface HostileOptions {
  /** HTTPS with a fresh self-signed certificate for 127.0.0.1 and localhost. Defaults to true when `cert` is given. */
  tls?: boolean;
  /**
   * Serve HTTPS with this certificate (another hostile server's `cert`) instead of making one, so one
   * NODE_EXTRA_CA_CERTS trusts both. Its files belong to the server that made it and go when that one closes.
   */
  cert?: HostileCert | undefined;
  /** Answers 404 with no body when not given. */
  handler?: HostileHandler;
}

export interface HostileServer {
  /** `http(s)://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly origin: string;
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** Every request in arrival order; entries are appended once the request body has arrived. */
  readonly log: HostileLogEntry[];
  /** undefined for plain HTTP. */
  readonly cert: HostileCert | undefined;
  readonly caPath: string | undefined;
  readonly caPem: string | undefined;
  setHandler(handler: HostileHandler): void;
  /** Idempotent: ends hanging and trickling responses and every connection, removes its temp files. */
  close(): Promise<void>;
}

const DEFAULT_HANDLER: HostileHandler = () => ({ status: 404 });

export async function startHostile(options: HostileOptions = {}): Promise<HostileServer> {
  const tls = options.tls ?? options.cert !== undefined;
  let handler = options.handler ?? DEFAULT_HANDLER;
  const log: HostileLogEntry[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  let cert: HostileCert | undefined;
  let ownDir: string | undefined;
  if (tls) {
    if (options.cert === undefined) {
      ownDir = await makeTempDir('manifest-merge-hostile-');
      try {
        const made = await selfSignedCert(ownDir, '/CN=127.0.0.1', [
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
        ]);
        cert = { keyPem: made.keyPem, certPem: made.certPem, caPath: made.certPath };
      } catch (error) {
        await removeTempDir(ownDir);
        throw error;
      }
    } else {
      cert = options.cert;
    }
  }

  const onRequest = (incoming: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('error', () => incoming.socket.destroy());
    incoming.on('end', () => {
      const req: HostileRequest = {
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        headers: incoming.headers,
        body: Buffer.concat(chunks),
      };
      const entry: HostileLogEntry = { ...req, status: 0 };
      log.push(entry);
      void answer(req, entry, res, incoming.socket);
    });
  };

  const answer = async (
    req: HostileRequest,
    entry: HostileLogEntry,
    res: ServerResponse,
    socket: Socket,
  ): Promise<void> => {
    let reply: HostileReply;
    try {
      reply = await handler(req);
    } catch (error) {
      reply = textReply(500, `hostile handler threw: ${messageOf(error)}`);
    }
    if (closed || res.destroyed) return;
    try {
      send(req, entry, reply, res, socket);
    } catch (error) {
      // Bad headers from the handler (node:http validates them): say so rather than crash the test run.
      if (res.headersSent) {
        socket.destroy();
      } else {
        const fallback = textReply(500, `hostile reply could not be sent: ${messageOf(error)}`);
        send(req, entry, fallback, res, socket);
      }
    }
  };

  const send = (
    req: HostileRequest,
    entry: HostileLogEntry,
    reply: HostileReply,
    res: ServerResponse,
    socket: Socket,
  ): void => {
    if (!('kind' in reply)) {
      const headers: HostileHeaders = { ...reply.headers };
      const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body);
      const noContent =
        reply.status === 204 || reply.status === 304 || (reply.status >= 100 && reply.status < 200);
      const hasLength = Object.keys(headers).some((name) => name.toLowerCase() === 'content-length');
      if (!noContent && !hasLength) headers['content-length'] = String(body.length);
      res.writeHead(reply.status, headers);
      entry.status = reply.status;
      res.end(noContent || req.method === 'HEAD' ? undefined : body);
      return;
    }
    switch (reply.kind) {
      case 'reset':
        socket.destroy();
        return;
      case 'hang':
        // Nothing to do: close() destroys the socket.
        return;
      case 'trickle':
        trickle(entry, reply, res);
        return;
    }
  };

  const trickle = (entry: HostileLogEntry, reply: TrickleReply, res: ServerResponse): void => {
    const { chunk, count } = reply;
    const chunkAt = (index: number): string | Buffer => (typeof chunk === 'function' ? chunk(index) : chunk);
    res.writeHead(reply.status, { ...reply.headers });
    entry.status = reply.status;
    res.flushHeaders();
    if (count !== undefined && count <= 0) {
      res.end();
      return;
    }
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || res.writableEnded) {
        stop();
        return;
      }
      res.write(chunkAt(sent));
      sent++;
      if (count !== undefined && sent >= count) {
        stop();
        res.end();
      }
    }, reply.everyMs);
    const stop = (): void => {
      clearInterval(timer);
      timers.delete(timer);
    };
    timers.add(timer);
    // The client went away (or close() destroyed the socket).
    res.once('close', stop);
  };

  const server = tls
    ? createHttpsServer({ key: cert?.keyPem, cert: cert?.certPem }, onRequest)
    : createHttpServer(onRequest);
  // The raw TCP socket, for both variants: destroying it also ends a TLS session, even one mid-handshake.
  server.on('connection', (socket: Socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  let port: number;
  try {
    port = await listenOnLoopback(server);
  } catch (error) {
    if (ownDir !== undefined) await removeTempDir(ownDir);
    throw error;
  }
  const host = `127.0.0.1:${port}`;
  const url = `${tls ? 'https' : 'http'}://${host}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    origin: url,
    host,
    log,
    cert,
    caPath: cert?.caPath,
    caPem: cert?.certPem,
    setHandler(next) {
      handler = next;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        for (const timer of timers) clearInterval(timer);
        timers.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
        });
        if (ownDir !== undefined) await removeTempDir(ownDir);
      })();
      return closing;
    },
  };
}

/** A JSON answer with Content-Type application/json. */
export function json(status: number, value: unknown, headers: HostileHeaders = {}): PlainReply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}

/** A registry's error answer (helpers/registry-errors.ts), typed application/json. `detail` defaults to `{}`. */
export function registryError(
  status: number,
  code: string,
  message: string,
  headers: HostileHeaders = {},
  detail: unknown = {},
): PlainReply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: errorBody([{ code, message, detail }]),
  };
}

/**
 * A WWW-Authenticate value: `Bearer realm="...",service="...",scope="..."` in the order given, values quoted
 * (with `"` and `\` escaped). No parameters gives the bare scheme.
 */
export function challenge(kind: 'basic' | 'bearer', params: Record<string, string> = {}): string {
  const scheme = kind === 'basic' ? 'Basic' : 'Bearer';
  const pairs = Object.entries(params).map(([name, value]) => `${name}="${value.replace(/["\\]/g, '\\$&')}"`);
  return pairs.length === 0 ? scheme : `${scheme} ${pairs.join(',')}`;
}

function textReply(status: number, text: string): PlainReply {
  return { status, headers: { 'content-type': 'text/plain' }, body: text };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
