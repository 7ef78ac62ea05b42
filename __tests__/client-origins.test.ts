import { MockAgent } from 'undici';
import { afterEach, expect, test } from 'vitest';
import type { ClientOptions } from '../src/registry/api.js';
import { basicAuthorization, type Credential } from '../src/registry/auth.js';
import { RegistryClient } from '../src/registry/client.js';
import { digestOf } from '../src/registry/digest.js';
import { ErrorCode, RegistryError } from '../src/registry/errors.js';
import { OCI_MANIFEST } from '../src/registry/media-types.js';
import { parseRepository } from '../src/registry/reference.js';
import { recordingLogger } from './helpers/client.js';
import { fakeClock } from './helpers/fake-clock.js';
import { freePort } from './helpers/local.js';
import { undiciTransport } from './helpers/undici-transport.js';

/**
 * Where credentials may go, and what the client makes of odd answers: the real RegistryClient over undici's
 * MockAgent, every request recorded with the headers it carried. SPEC Guarantees 4 and 6.
 */

const REPO = parseRepository('reg.test/org/app');
const BASIC = basicAuthorization('u', 'p');
const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="x"' };
const credentials = async (): Promise<Credential> => ({ kind: 'basic', username: 'u', password: 'p' });

const BLOB = Buffer.from('{"architecture":"amd64","os":"linux"}');
const BLOB_DIGEST = digestOf(BLOB);
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: BLOB_DIGEST, size: BLOB.length },
    layers: [],
  }),
);
const MANIFEST_DIGEST = digestOf(MANIFEST);
const MANIFEST_HEADERS = { 'content-type': OCI_MANIFEST, 'docker-content-digest': MANIFEST_DIGEST };

interface Seen {
  readonly origin: string;
  readonly method: string;
  /** Path and query as sent. */
  readonly path: string;
  /** Lowercased names. */
  readonly headers: Readonly<Record<string, string>>;
}

interface Answer {
  readonly status: number;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
}

function lowered(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (typeof (headers as Headers).forEach === 'function' && !Array.isArray(headers)) {
    (headers as Headers).forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
    return out;
  }
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2)
      out[String(headers[i]).toLowerCase()] = String(headers[i + 1]);
    return out;
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

const agents: MockAgent[] = [];
const clients: RegistryClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const agent of agents.splice(0)) await agent.close();
});

/** A MockAgent with no way out, and every intercepted request recorded. */
function mockNetwork() {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agents.push(agent);
  const seen: Seen[] = [];
  /** Answers every `method` request on `origin` whose path matches, as `answer` says (persistently). */
  const route = (
    origin: string,
    method: string,
    path: string | ((path: string) => boolean),
    answer: (request: Seen) => Answer,
  ) => {
    agent
      .get(origin)
      .intercept({ path, method })
      .reply((opts) => {
        const request: Seen = {
          origin,
          method: opts.method,
          path: opts.path,
          headers: lowered(opts.headers),
        };
        seen.push(request);
        const { status, body = '', headers = {} } = answer(request);
        return { statusCode: status, data: Buffer.from(body), responseOptions: { headers } };
      })
      .persist();
  };
  /** The requests that reached `origin`, optionally only those whose path starts with `prefix`. */
  const at = (origin: string, prefix = '') =>
    seen.filter((r) => r.origin === origin && r.path.startsWith(prefix));
  return { agent, seen, route, at };
}
type MockNetwork = ReturnType<typeof mockNetwork>;

/** Answers anonymous requests with a Basic challenge and authorised ones as `answer` says. */
function basicProtected(answer: (request: Seen) => Answer): (request: Seen) => Answer {
  return (request) => {
    if (request.headers['authorization'] === undefined) return { status: 401, headers: BASIC_CHALLENGE };
    if (request.headers['authorization'] !== BASIC) return { status: 403 };
    return answer(request);
  };
}

/** reg.test's 401 sending the client to the token realm `realm`. */
function bearerChallenge(realm: string): Answer {
  return { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}",service="reg.test"` } };
}

/** The manifest, as a registry serves it. */
const manifestAnswer = (): Answer => ({ status: 200, body: MANIFEST, headers: MANIFEST_HEADERS });

/** The blob, as a registry or a storage backend serves it. */
const blobAnswer = (): Answer => ({
  status: 200,
  body: BLOB,
  headers: { 'content-length': String(BLOB.length) },
});

/** Where reg.test opens uploads to org/app, unless a test says otherwise: on the registry itself. */
const OWN_UPLOAD = '/v2/org/app/blobs/uploads/u-1?_state=y';

/**
 * A blob copy from org/base to org/app on reg.test (both Basic-protected): the POST opens an upload at `location`,
 * and the source read answers as `read` says. The upload's closing PUT is routed apart (`putOnRegistry`, or
 * another host).
 */
function blobCopy(net: MockNetwork, location: string, read: (request: Seen) => Answer): void {
  net.route(
    'https://reg.test',
    'POST',
    '/v2/org/app/blobs/uploads/',
    basicProtected(() => ({ status: 202, headers: { location } })),
  );
  net.route('https://reg.test', 'GET', `/v2/org/base/blobs/${BLOB_DIGEST}`, basicProtected(read));
}

/** The closing PUT of an upload opened at OWN_UPLOAD, on reg.test (Basic-protected). */
function putOnRegistry(net: MockNetwork): void {
  net.route(
    'https://reg.test',
    'PUT',
    (p) => p.startsWith('/v2/org/app/blobs/uploads/u-1?'),
    basicProtected(() => ({ status: 201 })),
  );
}

/** A token endpoint at https://auth.test/token answering every GET 200 with `body`, typed `contentType`. */
function tokenEndpoint(net: MockNetwork, body: string, contentType: string): void {
  net.route(
    'https://auth.test',
    'GET',
    (p) => p.startsWith('/token'),
    () => ({ status: 200, body, headers: { 'content-type': contentType } }),
  );
}

function makeClient(agent: MockAgent | undefined, extra: Partial<ClientOptions> = {}) {
  const log = recordingLogger();
  const clock = fakeClock();
  const client = new RegistryClient({
    credentials,
    log,
    clock,
    ...(agent ? { transport: undiciTransport(agent) } : {}),
    ...extra,
  });
  clients.push(client);
  return { client, log, clock };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected the call to fail, but it succeeded');
}

// 1. Redirects of a blob read.
const REDIRECTS = [
  { to: 'http://reg.test', path: '/storage/blob', authorized: false, why: 'https->http on one host' },
  { to: 'https://storage.test', path: '/bucket/blob?X-Sig=s', authorized: false, why: 'another host' },
  { to: 'https://reg.test', path: '/v2/org/app/blobs/elsewhere', authorized: true, why: 'the same origin' },
];

test.each(REDIRECTS)(
  'a blob read redirected to $why carries the credentials: $authorized',
  async ({ to, path, authorized }) => {
    const net = mockNetwork();
    const blobPath = `/v2/org/app/blobs/${BLOB_DIGEST}`;
    net.route(
      'https://reg.test',
      'GET',
      blobPath,
      basicProtected(() => ({ status: 307, headers: { location: `${to}${path}` } })),
    );
    net.route(to, 'GET', path, () => ({ status: 200, body: BLOB }));
    const { client } = makeClient(net.agent);

    const bytes = await client.getBlob(REPO, BLOB_DIGEST, 1024);

    expect(Buffer.from(bytes).equals(BLOB)).toBe(true);
    // The registry itself got the credentials after its challenge...
    const registryHits = net.at('https://reg.test', blobPath);
    expect(registryHits.map((r) => r.headers['authorization'])).toEqual([undefined, BASIC]);
    // ...and the redirect target got them only if it is the same origin.
    const target = net.at(to, path.split('?')[0]);
    expect(target).toHaveLength(1);
    expect(target[0]?.headers['authorization']).toBe(authorized ? BASIC : undefined);
  },
);

// 2. Upload locations.
test.each(REDIRECTS)(
  'a blob copy whose source read is redirected to $why carries the credentials: $authorized',
  async ({ to, path, authorized }) => {
    // copyBlob streams the source through its own redirect loop (openBlob), not the one getBlob uses.
    const net = mockNetwork();
    const source = parseRepository('reg.test/org/base');
    const blobPath = `/v2/org/base/blobs/${BLOB_DIGEST}`;
    blobCopy(net, OWN_UPLOAD, () => ({ status: 307, headers: { location: `${to}${path}` } }));
    net.route(to, 'GET', path, blobAnswer);
    putOnRegistry(net);
    const { client } = makeClient(net.agent);

    await client.copyBlob(source, REPO, BLOB_DIGEST);

    expect(net.at('https://reg.test', blobPath).at(-1)?.headers['authorization']).toBe(BASIC);
    const target = net.at(to, path.split('?')[0]);
    expect(target).toHaveLength(1);
    expect(target[0]?.headers['authorization']).toBe(authorized ? BASIC : undefined);
    expect(net.at('https://reg.test', '/v2/org/app/blobs/uploads/u-1')).toHaveLength(1);
  },
);

test('copyBlob never sends the registry credentials to an upload Location on another host', async () => {
  const net = mockNetwork();
  const source = parseRepository('reg.test/org/base');
  blobCopy(net, 'https://uploads.other.test/upload/1?_state=x', blobAnswer);
  net.route(
    'https://uploads.other.test',
    'PUT',
    (p) => p.startsWith('/upload/1?'),
    () => ({ status: 201 }),
  );
  const { client } = makeClient(net.agent);

  await client.copyBlob(source, REPO, BLOB_DIGEST);

  const puts = net.at('https://uploads.other.test');
  expect(puts).toHaveLength(1);
  expect(puts[0]?.headers['authorization']).toBeUndefined();
  const query = new URL(`https://x${puts[0]?.path}`).searchParams;
  expect(query.get('_state')).toBe('x');
  expect(query.get('digest')).toBe(BLOB_DIGEST);
  // The source read is on the registry's own origin, so it was authorised.
  const reads = net.at('https://reg.test', '/v2/org/base/blobs/');
  expect(reads.at(-1)?.headers['authorization']).toBe(BASIC);
  // The POST that opened the upload was authorised too: the credentials existed and were held back on purpose.
  expect(net.at('https://reg.test', '/v2/org/app/blobs/uploads/').at(-1)?.headers['authorization']).toBe(
    BASIC,
  );
});

test('copyBlob sends the registry credentials to an upload Location on the registry itself', async () => {
  const net = mockNetwork();
  const source = parseRepository('reg.test/org/base');
  blobCopy(net, OWN_UPLOAD, blobAnswer);
  putOnRegistry(net);
  const { client } = makeClient(net.agent);

  await client.copyBlob(source, REPO, BLOB_DIGEST);

  const puts = net.at('https://reg.test', '/v2/org/app/blobs/uploads/u-1');
  expect(puts).toHaveLength(1);
  expect(puts[0]?.method).toBe('PUT');
  expect(puts[0]?.headers['authorization']).toBe(BASIC);
  expect(new URL(`https://x${puts[0]?.path}`).searchParams.get('digest')).toBe(BLOB_DIGEST);
});

// 3. Token realms.
test('a Bearer realm over plain HTTP is refused for an HTTPS registry, and never contacted', async () => {
  const net = mockNetwork();
  net.route('https://reg.test', 'GET', '/v2/org/app/manifests/v1', () =>
    bearerChallenge('http://auth.other.test/token'),
  );
  net.route(
    'http://auth.other.test',
    'GET',
    (p) => p.startsWith('/token'),
    () => ({ status: 200, body: '{}' }),
  );
  net.route(
    'http://auth.other.test',
    'POST',
    (p) => p.startsWith('/token'),
    () => ({ status: 200, body: '{}' }),
  );
  const { client } = makeClient(net.agent);

  const error = await rejection(client.getManifest(REPO, 'v1'));

  expect(error.message).toContain('not HTTPS');
  expect(error.message).toContain('http://auth.other.test/token');
  expect(net.at('http://auth.other.test')).toEqual([]);
  expect(net.at('https://reg.test')).toHaveLength(1);
});

test('an HTTPS Bearer realm is used, and a token answered only as access_token is sent', async () => {
  const net = mockNetwork();
  net.route('https://reg.test', 'GET', '/v2/org/app/manifests/v1', (request) =>
    request.headers['authorization'] === 'Bearer t'
      ? manifestAnswer()
      : bearerChallenge('https://auth.test/token'),
  );
  tokenEndpoint(net, '{"access_token":"t"}', 'application/json');
  const { client } = makeClient(net.agent);

  const fetched = await client.getManifest(REPO, 'v1');

  expect(fetched.descriptor).toEqual({
    mediaType: OCI_MANIFEST,
    digest: MANIFEST_DIGEST,
    size: MANIFEST.length,
  });
  const tokenRequests = net.at('https://auth.test');
  expect(tokenRequests).toHaveLength(1);
  expect(tokenRequests[0]?.headers['authorization']).toBe(BASIC);
  const query = new URL(`https://x${tokenRequests[0]?.path}`).searchParams;
  expect(query.get('service')).toBe('reg.test');
  expect(query.getAll('scope')).toEqual(['repository:org/app:pull']);
  expect(net.at('https://reg.test').map((r) => r.headers['authorization'])).toEqual([undefined, 'Bearer t']);
});

// 4. Basic over plain HTTP.
test('Basic credentials are never sent in clear text to a non-loopback plain-HTTP registry', async () => {
  const net = mockNetwork();
  net.route(
    'http://reg.test',
    'GET',
    '/v2/org/app/manifests/v1',
    basicProtected(() => ({ status: 200 })),
  );
  const { client } = makeClient(net.agent, { plainHttp: true, plainHttpEndpoints: ['reg.test'] });

  const error = await rejection(client.getManifest(REPO, 'v1'));

  expect(error.message).toContain('clear text');
  expect(error.message).toContain('http://reg.test');
  // The anonymous probe went out (and got the challenge); nothing with credentials followed it.
  expect(net.at('http://reg.test')).toHaveLength(1);
  expect(net.seen.filter((r) => r.headers['authorization'] !== undefined)).toEqual([]);
});

// 5. plain-http only where meant.
test('plain-http applies only to the endpoints it is meant for', async () => {
  const net = mockNetwork();
  net.route('http://reg.test', 'GET', '/v2/org/app/manifests/v1', manifestAnswer);
  net.route('https://other.test', 'GET', '/v2/lib/x/manifests/v1', manifestAnswer);
  net.route('http://other.test', 'GET', (p) => p.startsWith('/v2/'), manifestAnswer);
  const { client } = makeClient(net.agent, { plainHttp: true, plainHttpEndpoints: ['reg.test'] });

  // The endpoint plain-http was given for is read over HTTP...
  expect((await client.getManifest(REPO, 'v1')).descriptor.digest).toBe(MANIFEST_DIGEST);
  // ...and every other one stays on HTTPS.
  const other = await client.getManifest(parseRepository('other.test/lib/x'), 'v1');

  expect(other.descriptor.digest).toBe(MANIFEST_DIGEST);
  expect(net.at('http://reg.test')).toHaveLength(1);
  expect(net.at('https://other.test')).toHaveLength(1);
  expect(net.at('http://other.test')).toEqual([]);
});

// 6. A token server that answers HTML.
test('a token server answering 200 with HTML is named, and said not to answer JSON', async () => {
  const net = mockNetwork();
  net.route('https://reg.test', 'GET', '/v2/org/app/manifests/v1', () =>
    bearerChallenge('https://auth.test/token'),
  );
  tokenEndpoint(net, '<html><body>Sign in</body></html>', 'text/html');
  const { client } = makeClient(net.agent);

  const error = await rejection(client.getManifest(REPO, 'v1'));

  expect(error.message).toContain('token server https://auth.test/token');
  expect(error.message).toMatch(/other than JSON|not JSON/);
  expect(error.message).toContain('reg.test');
  // Not retried: one token request, one challenge.
  expect(net.at('https://auth.test')).toHaveLength(1);
});

// 7. An unreachable registry.
test('an unreachable registry is retried for the 30 s connect budget, logged, then named', async () => {
  const port = await freePort();
  expect(port).toBeGreaterThan(0);
  const { client, log, clock } = makeClient(undefined, { random: () => 0.5 });
  const deadline = clock.now() + 120_000;

  const error = await rejection(
    client.getManifest(parseRepository(`127.0.0.1:${port}/org/app`), 'v1', { deadline }),
  );

  expect(error.message).toContain(`cannot connect to http://127.0.0.1:${port}`);
  expect(error.message).toContain('ECONNREFUSED');
  expect(log.lines.some((line) => line.startsWith('info ') && line.includes('retrying for up to 30 s'))).toBe(
    true,
  );
  const slept = clock.sleeps.reduce((sum, ms) => sum + ms, 0);
  expect(clock.sleeps.length).toBeGreaterThan(1);
  expect(slept).toBeGreaterThanOrEqual(30_000);
  // It gave up after the connect budget (plus at most one capped backoff), far from the 120 s deadline.
  expect(slept).toBeLessThan(40_000);
});

// 8. A server that is not a registry.
test('a bare 404 from a server whose /v2/ answers 404 HTML says it is not a container registry', async () => {
  const net = mockNetwork();
  const page = { 'content-type': 'text/html' };
  net.route(
    'https://reg.test',
    'GET',
    (p) => p.startsWith('/v2/org/app/manifests/'),
    () => ({
      status: 404,
      body: '<html>Not Found</html>',
      headers: page,
    }),
  );
  net.route('https://reg.test', 'GET', '/v2/', () => ({
    status: 404,
    body: '<html>nope</html>',
    headers: page,
  }));
  const { client } = makeClient(net.agent);

  const first = await rejection(client.getManifest(REPO, 'v1'));
  const second = await rejection(client.getManifest(REPO, 'v2'));

  for (const error of [first, second]) {
    expect(error).not.toBeInstanceOf(RegistryError);
    expect(error.message).toContain('https://reg.test is not a container registry');
  }
  expect(net.at('https://reg.test', '/v2/org/app/manifests/')).toHaveLength(2);
  expect(net.seen.filter((r) => r.path === '/v2/')).toHaveLength(1);
});

test.each([
  ['Go (distribution, zot, Harbor)', 'Client sent an HTTP request to an HTTPS server.\n'],
  ['nginx', '<html><center>The plain HTTP request was sent to HTTPS port</center></html>'],
])(
  'plain HTTP to an HTTPS server (%s) says it speaks HTTPS, from HEAD too, asking /v2/ once',
  async (_name, said) => {
    const net = mockNetwork();
    const origin = 'http://reg.test';
    net.route(
      origin,
      'HEAD',
      (p) => p.startsWith('/v2/org/app/manifests/'),
      () => ({ status: 400 }),
    );
    net.route(
      origin,
      'GET',
      (p) => p.startsWith('/v2/'),
      () => ({ status: 400, body: said }),
    );
    const { client } = makeClient(net.agent, { plainHttp: true });

    const errors = [
      await rejection(client.headManifest(REPO, 'v1')),
      await rejection(client.getManifest(REPO, 'v2')),
      await rejection(client.headManifest(REPO, 'v3')),
    ];

    for (const error of errors) {
      expect(error).not.toBeInstanceOf(RegistryError);
      expect(error.message).toContain(`${origin} speaks HTTPS: it answered the plain-HTTP request with 400`);
      expect(error.message).toContain('Drop plain-http: true');
    }
    // Failed at once, not retried; the HEADs' missing words came from one GET /v2/.
    expect(net.seen.filter((r) => r.path.startsWith('/v2/org/app/manifests/'))).toHaveLength(3);
    expect(net.seen.filter((r) => r.path === '/v2/')).toHaveLength(1);
  },
);

test("a 400 with a distribution error body over plain HTTP stays the registry's error, /v2/ unasked", async () => {
  const net = mockNetwork();
  net.route(
    'http://reg.test',
    'GET',
    (p) => p.startsWith('/v2/org/app/manifests/'),
    () => ({
      status: 400,
      body: '{"errors":[{"code":"NAME_INVALID","message":"Client sent an HTTP request to an HTTPS server"}]}',
      headers: { 'content-type': 'application/json' },
    }),
  );
  const { client } = makeClient(net.agent, { plainHttp: true });

  const error = await rejection(client.getManifest(REPO, 'v1'));

  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).hasCode('NAME_INVALID')).toBe(true);
  expect(net.seen.filter((r) => r.path === '/v2/')).toHaveLength(0);
});

test('a bare 404 from a server whose /v2/ answers 401 with a challenge stays MANIFEST_UNKNOWN', async () => {
  const net = mockNetwork();
  net.route('https://reg.test', 'GET', '/v2/org/app/manifests/v1', () => ({ status: 404 }));
  net.route('https://reg.test', 'GET', '/v2/', () => ({
    status: 401,
    body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
    headers: {
      'content-type': 'application/json',
      'www-authenticate': 'Bearer realm="https://auth.test/token",service="reg.test"',
    },
  }));
  const { client } = makeClient(net.agent);

  const error = await rejection(client.getManifest(REPO, 'v1'));

  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).status).toBe(404);
  expect((error as RegistryError).hasCode(ErrorCode.MANIFEST_UNKNOWN)).toBe(true);
  expect(error.message).not.toContain('not a container registry');
  // /v2/ was asked (the 404 was bare), and said "registry".
  expect(net.seen.filter((r) => r.path === '/v2/')).toHaveLength(1);
});

test('a 404 with a distribution error body or the API version header never asks /v2/', async () => {
  const net = mockNetwork();
  net.route('https://reg.test', 'GET', '/v2/org/app/manifests/v1', () => ({
    status: 404,
    body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
    headers: { 'content-type': 'application/json' },
  }));
  net.route('https://reg.test', 'GET', '/v2/org/app/manifests/v2', () => ({
    status: 404,
    headers: { 'docker-distribution-api-version': 'registry/2.0' },
  }));
  net.route('https://reg.test', 'GET', '/v2/', () => ({
    status: 404,
    headers: { 'content-type': 'text/html' },
  }));
  const { client } = makeClient(net.agent);

  for (const tag of ['v1', 'v2']) {
    const error = await rejection(client.getManifest(REPO, tag));
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).hasCode(ErrorCode.MANIFEST_UNKNOWN)).toBe(true);
  }
  expect(net.seen.filter((r) => r.path === '/v2/')).toEqual([]);
});

// 9. HEAD refused, PUT answered 200/202.
/** headManifest of org/app:v1 when reg.test answers the HEAD as `head` says and the GET with the manifest. */
async function headManifestWhenHeadAnswers(head: Answer) {
  const net = mockNetwork();
  net.route('https://reg.test', 'HEAD', '/v2/org/app/manifests/v1', () => head);
  net.route('https://reg.test', 'GET', '/v2/org/app/manifests/v1', manifestAnswer);
  const { client } = makeClient(net.agent);
  return { descriptor: await client.headManifest(REPO, 'v1'), net };
}

test('a HEAD on a manifest answered 405 falls back to GET and describes the manifest', async () => {
  const { descriptor, net } = await headManifestWhenHeadAnswers({ status: 405 });

  expect(descriptor).toEqual({ mediaType: OCI_MANIFEST, digest: MANIFEST_DIGEST, size: MANIFEST.length });
  expect(net.seen.map((r) => r.method)).toEqual(['HEAD', 'GET']);
});

test.each([200, 202])('a manifest PUT answered %i (not 201) is a success', async (status) => {
  const net = mockNetwork();
  net.route('https://reg.test', 'PUT', '/v2/org/app/manifests/v1', () => ({
    status,
    headers: { 'docker-content-digest': MANIFEST_DIGEST },
  }));
  const { client } = makeClient(net.agent);

  await expect(client.putManifest(REPO, 'v1', MANIFEST, OCI_MANIFEST)).resolves.toEqual({
    digest: MANIFEST_DIGEST,
  });

  const puts = net.at('https://reg.test');
  expect(puts).toHaveLength(1);
  expect(puts[0]?.headers['content-type']).toBe(OCI_MANIFEST);
});

// 10. HEAD without Content-Length.
test('a HEAD without Content-Length falls back to GET, and the size comes from the body', async () => {
  const { descriptor, net } = await headManifestWhenHeadAnswers({ status: 200, headers: MANIFEST_HEADERS });

  expect(descriptor).toEqual({ mediaType: OCI_MANIFEST, digest: MANIFEST_DIGEST, size: MANIFEST.length });
  expect(net.seen.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  expect(net.seen[0]?.headers['accept']).toContain(OCI_MANIFEST);
});
