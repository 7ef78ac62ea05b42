import { existsSync } from 'node:fs';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runNode } from './helpers/action.js';
import { challenge, type HostileServer, json, registryError, startHostile } from './helpers/hostile.js';

// Proves the scripted server does what it claims: tests that rely on it to misbehave are only as good as the
// misbehaviour it really produces.

// Prints the body, or the error's cause code (e.g. DEPTH_ZERO_SELF_SIGNED_CERT) and exits 1.
const FETCH_SCRIPT =
  'fetch(process.argv[1]).then((r) => r.text()).then(console.log, (e) => {' +
  ' console.error(e.cause?.code ?? e.cause?.message ?? e.message); process.exit(1); })';

/** Fetches `url` in a fresh Node process, trusting `caPath` (if given) through NODE_EXTRA_CA_CERTS only. */
function fetchInChild(url: string, caPath?: string) {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '' };
  if (caPath !== undefined) env['NODE_EXTRA_CA_CERTS'] = caPath;
  return runNode(['-e', FETCH_SCRIPT, url], env);
}

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('https', () => {
  let registry: HostileServer;
  let storage: HostileServer;
  beforeAll(async () => {
    registry = await startHostile({
      tls: true,
      handler: (req) => ({
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: `registry ${req.path}`,
      }),
    });
    // Shares the registry's certificate: one NODE_EXTRA_CA_CERTS trusts both.
    storage = await startHostile({
      cert: registry.cert,
      handler: () => ({ status: 200, body: 'storage' }),
    });
  });
  afterAll(async () => {
    await storage?.close();
    await registry?.close();
  });

  it('makes a self-signed certificate for 127.0.0.1 and exposes it', () => {
    expect(registry.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(registry.origin).toBe(registry.url);
    expect(registry.url).toBe(`https://${registry.host}`);
    expect(registry.caPath).toBeDefined();
    expect(existsSync(registry.caPath ?? '')).toBe(true);
    expect(registry.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(registry.cert?.keyPem).toMatch(/PRIVATE KEY/);
    expect(storage.cert).toBe(registry.cert);
    expect(storage.url).toMatch(/^https:/);
    expect(storage.host).not.toBe(registry.host);
  });

  it('is trusted by a child process started with NODE_EXTRA_CA_CERTS', async () => {
    const result = await fetchInChild(`${registry.url}/v2/?x=1`, registry.caPath);
    expect(result).toEqual({ code: 0, stdout: 'registry /v2/?x=1\n', stderr: '' });
    const shared = await fetchInChild(`${storage.url}/blob`, registry.caPath);
    expect(shared).toEqual({ code: 0, stdout: 'storage\n', stderr: '' });
    // The certificate names localhost too.
    const byName = await fetchInChild(
      `https://localhost:${new URL(registry.url).port}/named`,
      registry.caPath,
    );
    expect(byName.stdout).toBe('registry /named\n');
  });

  it('fails on the certificate without NODE_EXTRA_CA_CERTS', async () => {
    const before = registry.log.length;
    const result = await fetchInChild(`${registry.url}/v2/`);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // The handshake failed, so no request reached the handler.
    expect(registry.log.length).toBe(before);
  });

  it('is trusted in-process through the ca option', async () => {
    const agent = new Agent({ connect: { ca: registry.caPem } });
    try {
      const res = await request(`${registry.url}/in-process`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('registry /in-process');
    } finally {
      await agent.close();
    }
  });
});

describe('plain http', () => {
  let server: HostileServer;
  let agent: Agent;
  beforeAll(async () => {
    server = await startHostile();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    agent = new Agent();
  });
  afterEach(async () => {
    await agent.destroy();
  });

  it('serves http without a certificate, answering 404 when no handler is set', async () => {
    expect(server.url).toBe(`http://${server.host}`);
    expect(server.cert).toBeUndefined();
    expect(server.caPath).toBeUndefined();
    expect(server.caPem).toBeUndefined();
    const res = await request(`${server.url}/nothing`, { dispatcher: agent });
    expect(res.statusCode).toBe(404);
    expect(await res.body.text()).toBe('');
  });

  it('makes a TLS client fail the way an HTTP-only registry does', async () => {
    const before = server.log.length;
    const error = await rejection(request(`https://${server.host}/v2/`, { dispatcher: agent }));
    expect(error.code).toBe('ERR_SSL_WRONG_VERSION_NUMBER');
    expect(server.log.length).toBe(before);
  });

  it('records every request with its lowercased headers, Authorization included', async () => {
    server.setHandler((req) => json(200, { seen: req.path, body: req.body.toString('utf8') }));
    const before = server.log.length;
    const withAuth = await request(`${server.url}/v2/repo/manifests/latest?n=1`, {
      dispatcher: agent,
      method: 'PUT',
      headers: { Authorization: 'Bearer secret-token', 'X-Custom': 'yes' },
      body: 'payload',
    });
    expect(withAuth.headers['content-type']).toBe('application/json');
    expect(await withAuth.body.json()).toEqual({ seen: '/v2/repo/manifests/latest?n=1', body: 'payload' });
    const without = await request(`${server.url}/v2/`, { dispatcher: agent });
    await without.body.dump();

    const entries = server.log.slice(before);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ method: 'PUT', path: '/v2/repo/manifests/latest?n=1', status: 200 });
    expect(entries[0]?.headers.authorization).toBe('Bearer secret-token');
    expect(entries[0]?.headers['x-custom']).toBe('yes');
    expect(entries[0]?.body.toString('utf8')).toBe('payload');
    expect(entries[1]?.headers.authorization).toBeUndefined();
    expect(entries.filter((e) => e.headers.authorization !== undefined)).toHaveLength(1);
  });

  it('sends registry errors and challenges as built', async () => {
    const header = challenge('bearer', {
      realm: `${server.url}/token`,
      service: 'hostile',
      scope: 'repository:a/b:pull,push',
    });
    expect(header).toBe(
      `Bearer realm="${server.url}/token",service="hostile",scope="repository:a/b:pull,push"`,
    );
    expect(challenge('basic', { realm: 'say "hi"\\' })).toBe('Basic realm="say \\"hi\\"\\\\"');
    expect(challenge('bearer', {})).toBe('Bearer');

    server.setHandler(() =>
      registryError(401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': header }),
    );
    const res = await request(`${server.url}/v2/`, { dispatcher: agent });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(header);
    expect(res.headers['content-type']).toBe('application/json');
    expect(await res.body.json()).toEqual({
      errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: {} }],
    });
  });

  it('answers HEAD with the Content-Length of the body it does not send', async () => {
    server.setHandler(() => ({ status: 200, body: 'twelve bytes' }));
    const res = await request(`${server.url}/blob`, { dispatcher: agent, method: 'HEAD' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('12');
    expect(await res.body.text()).toBe('');
  });

  it('answers 500 with the message when the handler throws', async () => {
    server.setHandler(() => {
      throw new Error('boom');
    });
    const res = await request(`${server.url}/throws`, { dispatcher: agent });
    expect(res.statusCode).toBe(500);
    expect(await res.body.text()).toContain('boom');
    expect(server.log.at(-1)?.status).toBe(500);
  });

  it('reset destroys the socket: the client gets a socket error', async () => {
    server.setHandler(() => ({ kind: 'reset' }));
    const error = await rejection(request(`${server.url}/reset`, { dispatcher: agent }));
    expect(error.code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    expect(server.log.at(-1)).toMatchObject({ path: '/reset', status: 0 });
  });

  it('trickle sends the headers first, then the chunks in order, then ends', async () => {
    server.setHandler(() => ({
      kind: 'trickle',
      status: 206,
      headers: { 'content-type': 'application/octet-stream' },
      chunk: (i) => `part${i};`,
      everyMs: 5,
      count: 4,
    }));
    const res = await request(`${server.url}/trickle`, { dispatcher: agent });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const received: string[] = [];
    for await (const chunk of res.body) received.push((chunk as Buffer).toString('utf8'));
    expect(received.join('')).toBe('part0;part1;part2;part3;');
    expect(server.log.at(-1)).toMatchObject({ path: '/trickle', status: 206 });
  });

  it('trickle without count keeps going until the client leaves', async () => {
    server.setHandler(() => ({ kind: 'trickle', status: 200, chunk: Buffer.from('x'), everyMs: 5 }));
    const res = await request(`${server.url}/endless`, { dispatcher: agent });
    // The headers arrived before any chunk, and chunks keep coming.
    expect(res.statusCode).toBe(200);
    let received = 0;
    for await (const chunk of res.body) {
      received += (chunk as Buffer).length;
      if (received >= 3) break;
    }
    expect(received).toBeGreaterThanOrEqual(3);
  });
});

describe('close', () => {
  it('ends a hanging response and an endless trickle, and is idempotent', async () => {
    const server = await startHostile({ tls: true });
    const agent = new Agent({ connect: { ca: server.caPem } });
    try {
      server.setHandler((req) =>
        req.path === '/hang' ? { kind: 'hang' } : { kind: 'trickle', status: 200, chunk: 'y', everyMs: 5 },
      );
      const hanging = request(`${server.url}/hang`, { dispatcher: agent });
      const hangingError = rejection(hanging);
      const trickling = await request(`${server.url}/trickle`, { dispatcher: agent });
      const trickleError = rejection(trickling.body.text());
      await vi.waitFor(() => expect(server.log.map((e) => e.path).sort()).toEqual(['/hang', '/trickle']));
      expect(server.log.find((e) => e.path === '/hang')?.status).toBe(0);

      const closing = server.close();
      expect(server.close()).toBe(closing);
      await closing;
      expect((await hangingError).code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
      expect((await trickleError).code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
      // Its certificate folder is gone, and nothing listens any more.
      expect(existsSync(server.caPath ?? '')).toBe(false);
      const refused = await rejection(request(`${server.url}/after`, { dispatcher: agent }));
      expect(refused.code).toBe('ECONNREFUSED');
    } finally {
      await server.close();
      await agent.destroy();
    }
  });
});
