import { channel } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { errorCode, isTransient } from '../src/registry/errors.js';
import { type OwnedTransport, undiciTransport } from '../src/registry/transport.js';
import { listenOnLoopback } from './helpers/local.js';

/** The product's HTTP transport (undici) against real loopback servers: lengths, keep-alive, timeouts, bounds, closing. */

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

const servers: Server[] = [];
const transports: OwnedTransport[] = [];

afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void) {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      handler(req, res, entry);
    });
  });
  server.on('connection', () => connections++);
  servers.push(server);
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, seen, connections: () => connections };
}

function transport(timeoutMs = 10_000): OwnedTransport {
  const made = undiciTransport({ timeoutMs, connections: 8 });
  transports.push(made);
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

test('declares the length of a whole body (0 for an empty PUT, none for a GET) and flattens answer headers', async () => {
  const server = await serve((_, res) => {
    res.setHeader('WWW-Authenticate', ['Bearer realm="a"', 'Basic realm="b"']);
    res.setHeader('Docker-Content-Digest', 'sha256:abc');
    res.end('ok');
  });
  const http = transport();
  const put = await http.send(
    { method: 'PUT', url: `${server.url}/put?x=1`, headers: {}, body: 'h\u00e9' },
    100,
  );
  await http.send({ method: 'PUT', url: `${server.url}/empty`, headers: {} }, 100);
  await http.send({ method: 'GET', url: `${server.url}/get`, headers: { accept: 'a/b' } }, 100);

  const [first, empty, get] = server.seen;
  expect(first).toMatchObject({ method: 'PUT', url: '/put?x=1', body: 'h\u00e9' });
  expect(first?.headers['content-length']).toBe('3');
  expect(empty?.headers['content-length']).toBe('0');
  expect(empty?.headers['transfer-encoding']).toBeUndefined();
  expect(get?.headers['content-length']).toBeUndefined();
  expect(get?.headers['accept']).toBe('a/b');
  expect(put.status).toBe(200);
  expect(Buffer.from(put.body).toString()).toBe('ok');
  expect(put.headers['docker-content-digest']).toBe('sha256:abc');
  expect(put.headers['www-authenticate']).toBe('Bearer realm="a", Basic realm="b"');
});

test('a request made as soon as an answer is read goes out on that connection', async () => {
  const server = await serve((_, res) => res.end('{}'));
  const http = transport();
  await http.send({ method: 'GET', url: `${server.url}/a`, headers: {} }, 100);
  await Promise.all(
    ['b', 'c'].map((p) => http.send({ method: 'GET', url: `${server.url}/${p}`, headers: {} }, 100)),
  );
  await http.send({ method: 'HEAD', url: `${server.url}/d`, headers: {} }, 100);

  expect(server.seen.map((s) => s.url)).toEqual(['/a', '/b', '/c', '/d']);
  // One connection for /a, reused for /b; one more for /c, running beside it; /d reuses one of them.
  expect(server.connections()).toBe(2);
});

test('a burst of requests to a host name looks it up once, and connects where the resolver said', async () => {
  const server = await serve((_, res) => res.end());
  const port = new URL(server.url).port;
  const asked: string[] = [];
  const http = undiciTransport({
    timeoutMs: 10_000,
    connections: 8,
    resolve: (hostname, callback) => {
      asked.push(hostname);
      setImmediate(() => callback(null, [{ address: '127.0.0.1', family: 4 }]));
    },
  });
  transports.push(http);

  const paths = Array.from({ length: 8 }, (_, i) => `/v2/${i}`);
  await Promise.all(
    paths.map((p) => http.send({ method: 'GET', url: `http://registry.test:${port}${p}`, headers: {} }, 10)),
  );

  expect(asked).toEqual(['registry.test']);
  expect(server.seen.map((s) => s.url).sort()).toEqual(paths);
  expect(server.seen[0]?.headers['host']).toBe(`registry.test:${port}`);
});

test('an answer that does not come, or a body that stops, ends with a timeout a retry layer recognises', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/stops') {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345');
    }
    // '/silent': never answered.
  });
  const http = transport(100);
  // A caller's signal far beyond the timeouts, which undici checks about every half second.
  const get = (path: string) =>
    http.send(
      { method: 'GET', url: `${server.url}${path}`, headers: {}, signal: AbortSignal.timeout(10_000) },
      100,
    );
  const silent = await rejection(get('/silent'));
  const stops = await rejection(get('/stops'));

  expect(errorCode(silent)).toBe('UND_ERR_HEADERS_TIMEOUT');
  expect(errorCode(stops)).toBe('UND_ERR_BODY_TIMEOUT');
  expect(isTransient(silent) && isTransient(stops)).toBe(true);
});

test('refuses a success body over the limit, declared or sent, and cuts an error body there', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/declared') res.end('x'.repeat(11));
    else if (req.url === '/chunked') {
      res.write('x'.repeat(6));
      res.end('x'.repeat(6));
    } else {
      res.statusCode = 500;
      res.end('e'.repeat(50));
    }
  });
  const http = transport();
  const declared = await rejection(
    http.send({ method: 'GET', url: `${server.url}/declared`, headers: {} }, 10),
  );
  const chunked = await rejection(
    http.send({ method: 'GET', url: `${server.url}/chunked`, headers: {} }, 10),
  );
  const error = await http.send({ method: 'GET', url: `${server.url}/error`, headers: {} }, 10);

  expect(declared.message).toMatch(/response body is larger than 10 bytes/);
  expect(chunked.message).toMatch(/response body is larger than 10 bytes/);
  expect(error.status).toBe(500);
  expect(Buffer.from(error.body).toString()).toBe('e'.repeat(10));
});

test('an answer to HEAD declares the size of what GET would send, however large: it is no body to refuse', async () => {
  const server = await serve((_, res) => {
    res.writeHead(200, { 'content-length': String(2 ** 32) });
    res.end();
  });
  const head = await transport().send({ method: 'HEAD', url: `${server.url}/blob`, headers: {} }, 10);

  expect(head.status).toBe(200);
  expect(head.headers['content-length']).toBe(String(2 ** 32));
  expect(head.body).toHaveLength(0);
});

test('sends a stream as it comes; a failing stream ends the request with its own error', async () => {
  const server = await serve((_, res) => res.end());
  const http = transport();
  await http.send(
    {
      method: 'PATCH',
      url: `${server.url}/ok`,
      headers: {},
      body: Readable.from([Buffer.from('ab'), Buffer.from('c')]),
    },
    100,
  );
  const broken = new Readable({
    read() {
      this.destroy(new Error('the source stalled'));
    },
  });
  const failed = await rejection(
    http.send({ method: 'PATCH', url: `${server.url}/broken`, headers: {}, body: broken }, 100),
  );

  expect(server.seen[0]).toMatchObject({ url: '/ok', body: 'abc' });
  expect(server.seen[0]?.headers['transfer-encoding']).toBe('chunked');
  expect(failed.message).toBe('the source stalled');
});

test('an answer given before the body is all sent (413, then the socket closed) is the answer, not a reset', async () => {
  const server = createServer((req, res) => {
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > 1 << 20 && !res.headersSent) {
        res.writeHead(413, { connection: 'close' });
        res.end('too large');
        setTimeout(() => req.socket.destroy(), 5);
      }
    });
  });
  servers.push(server);
  const url = `http://127.0.0.1:${await listenOnLoopback(server)}/upload`;
  const body = Readable.from(Array.from({ length: 40 }, () => Buffer.alloc(512 * 1024, 1)));

  const answer = await transport().send(
    { method: 'PUT', url, headers: { 'content-length': String(40 * 512 * 1024) }, body },
    100,
  );

  // What is left of the source is the caller's to close (src/registry/upload.ts does).
  expect(answer.status).toBe(413);
  expect(Buffer.from(answer.body).toString()).toBe('too large');
});

test('an aborted request rejects with the abort reason', async () => {
  const server = await serve(() => {});
  const http = transport();
  const controller = new AbortController();
  const pending = http.send(
    { method: 'GET', url: `${server.url}/x`, headers: {}, signal: controller.signal },
    100,
  );
  await waitFor(() => server.seen.length === 1);
  controller.abort(new Error('deadline'));

  expect((await rejection(pending)).message).toBe('deadline');
});

test('close() ends the requests still out and refuses later ones, neither worth a retry', async () => {
  const server = await serve(() => {});
  const http = transport();
  const pending = rejection(http.send({ method: 'GET', url: `${server.url}/left`, headers: {} }, 100));
  await waitFor(() => server.seen.length === 1);
  await http.close();
  const left = await pending;
  const later = await rejection(http.send({ method: 'GET', url: `${server.url}/later`, headers: {} }, 100));

  for (const error of [left, later]) {
    expect(error.message).toMatch(/closed/);
    expect(isTransient(error)).toBe(false);
  }
  expect(server.seen.map((s) => s.url)).toEqual(['/left']);
});

test('undici tells its channels each request it makes and when it is on the wire (src/warm-up.ts listens)', async () => {
  const server = await serve((_, res) => res.end());
  const http = transport();
  const events: string[] = [];
  const created = (): void => {
    events.push('created');
  };
  const sent = (): void => {
    events.push('sent');
  };
  const REQUEST_CREATED = channel('undici:request:create');
  const REQUEST_SENT = channel('undici:client:sendHeaders');
  REQUEST_CREATED.subscribe(created);
  REQUEST_SENT.subscribe(sent);
  try {
    await Promise.all(
      ['a', 'b'].map((p) => http.send({ method: 'GET', url: `${server.url}/${p}`, headers: {} }, 10)),
    );
  } finally {
    REQUEST_CREATED.unsubscribe(created);
    REQUEST_SENT.unsubscribe(sent);
  }
  expect(events).toEqual(['created', 'created', 'sent', 'sent']);
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
