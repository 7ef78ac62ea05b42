import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { errorLine, FAST, runAction, runCli, visible } from './helpers/action.js';
import {
  challenge,
  type HostileReply,
  type HostileRequest,
  type HostileServer,
  json,
  registryError,
  startHostile,
} from './helpers/hostile.js';
import {
  fetchManifest,
  MediaTypes,
  type PushedImage,
  pushImages,
  served,
  sourcesOf,
} from './helpers/images.js';
import type { ProxyResponse, TestProxy } from './helpers/proxy.js';
import {
  startProxiedRegistry,
  startRegistry,
  stopProxiedRegistry,
  type TestRegistry,
} from './helpers/registry.js';
import { errorBody } from './helpers/registry-errors.js';

// End to end against servers that misbehave: the bundled action (and CLI) must fail with a message that names
// the registry and the fix (SPEC Guarantee 4), leak no secret (6), and leave the tags as they were (4, 7).

/** A digest no server here holds. */
const UNKNOWN = `sha256:${'a'.repeat(64)}`;

const NOT_A_REGISTRY_PAGE =
  '<!doctype html><html><head><title>404 Not Found</title></head><body>nginx</body></html>';

/** Every server here is scripted; none should be asked for more than the test expects. */
const hostiles: HostileServer[] = [];
async function hostile(options: Parameters<typeof startHostile>[0]): Promise<HostileServer> {
  const server = await startHostile(options);
  hostiles.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(hostiles.map((server) => server.close()));
});

const notFoundPage = (): HostileReply => ({
  status: 404,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: NOT_A_REGISTRY_PAGE,
});

const requestsOf = (server: HostileServer) => server.log.map((entry) => `${entry.method} ${entry.path}`);

describe('transport and protocol mismatches', () => {
  let reg: TestRegistry;
  let images: PushedImage[];
  const repo = 'mismatch/app';

  beforeAll(async () => {
    reg = await startRegistry();
    images = await pushImages(reg, repo, { format: 'docker', seed: 'mismatch' });
  });
  afterAll(async () => reg?.stop());

  test(
    'plain-http: false against a plain-HTTP registry says it did not answer in TLS and to set plain-http: true',
    async () => {
      const image = `${reg.host}/${repo}`;
      const inputs = { image, tags: 'v1', sources: sourcesOf(images), 'plain-http': 'false' };
      const result = await runAction(inputs);
      expect(result.code, result.stdout).toBe(1);
      const error = errorLine(result);
      expect(error).toContain(`https://${reg.host} did not answer in TLS`);
      expect(error).toContain('plain-http: true');
      // OpenSSL's own words are not the message (the code in parentheses is fine, for searching).
      expect(error).not.toMatch(/wrong version number/i);
      expect(result.outputs).toEqual({});
      expect(await served(reg, repo, 'v1')).toBeNull();

      // The CLI says the same on stderr.
      const cli = await runCli([
        '--image',
        image,
        '--tag',
        'v1',
        '--source',
        images[0]?.digest ?? '',
        '--plain-http',
        'false',
      ]);
      expect(cli.code, cli.stderr).toBe(1);
      expect(cli.stdout).toBe('');
      expect(cli.stderr).toMatch(/did not answer in TLS.*plain-http: true/);
      expect(await served(reg, repo, 'v1')).toBeNull();
    },
    FAST,
  );

  test(
    'plain-http: true against an HTTPS registry says it speaks HTTPS and to drop plain-http, at once',
    async () => {
      // The real registry serving TLS answers plain HTTP as Go does: 400 "Client sent an HTTP request to an HTTPS server."
      const tls = await startRegistry({ tls: true });
      try {
        const image = `${tls.host}/${repo}`;
        const action = await runAction(
          { image, tags: 'v1', sources: UNKNOWN, 'plain-http': 'true' },
          { NODE_EXTRA_CA_CERTS: tls.caPath ?? '' },
        );
        expect(action.code, action.stdout).toBe(1);
        const error = errorLine(action);
        expect(error).toContain(`http://${tls.host} speaks HTTPS`);
        expect(error).toContain('Client sent an HTTP request to an HTTPS server');
        expect(error).toContain('Drop plain-http: true');
        expect(action.outputs).toEqual({});

        const cli = await runCli([
          '--image',
          image,
          '--tag',
          'v1',
          '--source',
          UNKNOWN,
          '--plain-http',
          'true',
        ]);
        expect(cli.code, cli.stderr).toBe(1);
        expect(cli.stdout).toBe('');
        expect(cli.stderr).toMatch(/speaks HTTPS.*Drop plain-http: true/);
      } finally {
        await tls.stop();
      }
    },
    // Failing at once is the point: the unknown digest would otherwise be waited for up to wait-timeout (120 s).
    FAST,
  );

  test(
    'an HTTPS registry with an untrusted certificate names NODE_EXTRA_CA_CERTS; with it, the server is reached',
    async () => {
      const server = await hostile({ tls: true, handler: notFoundPage });
      const inputs = { image: `${server.host}/app`, tags: 'v1', sources: UNKNOWN, 'plain-http': 'false' };

      const untrusted = await runAction(inputs);
      expect(untrusted.code, untrusted.stdout).toBe(1);
      const error = errorLine(untrusted);
      expect(error).toContain(`${server.url} presented a TLS certificate that is not trusted`);
      expect(error).toContain('NODE_EXTRA_CA_CERTS');
      expect(error).toContain('NODE_USE_SYSTEM_CA=1');
      // The handshake failed: no HTTP request was ever made, and it was not retried into a wait.
      expect(server.log).toEqual([]);

      const trusted = await runAction(inputs, { NODE_EXTRA_CA_CERTS: server.caPath ?? '' });
      expect(trusted.code, trusted.stdout).toBe(1);
      expect(errorLine(trusted)).toContain(`${server.url} is not a container registry`);
      expect(errorLine(trusted)).not.toContain('NODE_EXTRA_CA_CERTS');
      expect(requestsOf(server)).toContain('GET /v2/');
    },
    FAST,
  );

  test(
    'a web server that is not a registry fails at once with its own message, not after wait-timeout',
    async () => {
      const server = await hostile({ handler: notFoundPage });
      // wait-timeout is the default 120 s: only the test's 30 s timeout bounds the run.
      const result = await runAction({ image: `${server.host}/app`, tags: 'v1', sources: UNKNOWN });
      expect(result.code, result.stdout).toBe(1);
      const error = errorLine(result);
      expect(error).toContain(`${server.url} is not a container registry: GET /v2/ answered 404 (text/html)`);
      expect(error).toContain('Check the registry host and port in "image"');
      expect(error).not.toContain('MANIFEST_UNKNOWN');
      // One look at the manifest, one at /v2/; nothing polled, nothing written.
      const requests = requestsOf(server);
      expect(requests.filter((r) => r === 'GET /v2/')).toHaveLength(1);
      expect(requests.filter((r) => r.startsWith(`HEAD /v2/app/manifests/${UNKNOWN}`))).toEqual([]);
      expect(requests.filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '))).toEqual([]);
      expect(requests.length).toBeLessThanOrEqual(3);
      expect(result.outputs).toEqual({});
    },
    FAST,
  );

  test(
    'a manifest body that trickles forever is cut at wait-timeout, with a message saying so',
    async () => {
      const server = await hostile({
        handler: (req: HostileRequest): HostileReply => {
          if (req.path === '/v2/') {
            return json(200, {}, { 'docker-distribution-api-version': 'registry/2.0' });
          }
          if (req.method === 'GET' && req.path.startsWith('/v2/app/manifests/')) {
            // Headers at once, then one byte every 200 ms, never ending.
            return {
              kind: 'trickle',
              status: 200,
              headers: {
                'content-type': MediaTypes.dockerManifest,
                'docker-distribution-api-version': 'registry/2.0',
              },
              chunk: ' ',
              everyMs: 200,
            };
          }
          return registryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
        },
      });
      const result = await runAction({
        image: `${server.host}/app`,
        tags: 'v1',
        sources: UNKNOWN,
        'wait-timeout': '2s',
      });
      expect(result.code, result.stdout).toBe(1);
      const error = errorLine(result);
      expect(error).toContain(`${server.url} did not finish answering in time`);
      expect(error).toContain('wait-timeout');
      const requests = requestsOf(server);
      expect(requests.filter((r) => r.startsWith('GET /v2/app/manifests/')).length).toBeGreaterThanOrEqual(1);
      expect(requests.filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '))).toEqual([]);
      expect(result.outputs).toEqual({});
    },
    FAST,
  );
});

describe('secrets under hostile answers', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  let images: PushedImage[];
  const repo = 'secret/app';

  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry({ auth: 'htpasswd' }));
    images = await pushImages(reg, repo, { format: 'docker', seed: 'secret' });
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));

  test(
    'a signed storage URL the config blob is redirected to never appears, and gets no credentials',
    async () => {
      const storageXml =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired' +
        '</Message><X-Amz-Expires>900</X-Amz-Expires><SignatureProvided>SECRETSIG</SignatureProvided>' +
        '<AWSAccessKeyId>SECRETCRED</AWSAccessKeyId></Error>';
      const storage = await hostile({
        handler: () => ({ status: 403, headers: { 'content-type': 'application/xml' }, body: storageXml }),
      });
      const signed = `${storage.url}/bucket/blob?X-Amz-Signature=SECRETSIG&X-Amz-Credential=SECRETCRED`;
      const config = images[0]?.configDigest ?? '';
      proxy.setHandler(async (req, forward) => {
        // As an S3-backed registry does: an authorized blob GET is sent to a presigned storage URL.
        if (
          req.method === 'GET' &&
          req.path === `/v2/${repo}/blobs/${config}` &&
          req.headers['authorization']
        ) {
          return { status: 307, headers: { location: signed }, body: Buffer.alloc(0) };
        }
        return forward();
      });
      try {
        const result = await runAction({
          image: `${proxy.host}/${repo}`,
          tags: 'v1',
          sources: sourcesOf(images),
          username: reg.username,
          password: reg.password,
        });
        expect(result.code, result.stdout).toBe(1);
        const error = errorLine(result);
        expect(error).toContain(proxy.host);
        expect(error).toContain(config);
        expect(error).toContain('403');
        // The storage refused, not the registry: no advice about the credentials' pull access.
        expect(error).toContain(`redirected to its storage at ${storage.origin}`);
        expect(error).not.toContain('pull access');
        const text = visible(result);
        for (const secret of ['SECRETSIG', 'SECRETCRED', reg.password]) expect(text).not.toContain(secret);
        expect(text).not.toContain(Buffer.from(`${reg.username}:${reg.password}`).toString('base64'));
        // The storage server was asked, and never with the registry's credentials.
        expect(storage.log.length).toBeGreaterThanOrEqual(1);
        for (const entry of storage.log) {
          expect(entry.path).toBe('/bucket/blob?X-Amz-Signature=SECRETSIG&X-Amz-Credential=SECRETCRED');
          expect(entry.headers['authorization']).toBeUndefined();
        }
        expect(await served(reg, repo, 'v1')).toBeNull();
      } finally {
        proxy.setHandler(undefined);
      }
    },
    FAST,
  );

  test(
    "the CLI's last error line masks a password the registry echoes back",
    async () => {
      const username = 'ci-user';
      const password = 'Hunter2-S3cret-pw';
      const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      const server = await hostile({
        handler: (req) => {
          if (req.path === '/v2/' && !req.headers['authorization']) {
            return { status: 401, headers: { 'www-authenticate': challenge('basic', { realm: 'hostile' }) } };
          }
          if (!req.headers['authorization']) {
            return registryError(401, 'UNAUTHORIZED', 'authentication required', {
              'www-authenticate': challenge('basic', { realm: 'hostile' }),
            });
          }
          // A registry that quotes what it was sent: the password, and the Authorization header as is.
          return registryError(
            400,
            'DENIED',
            `user ${username} with password ${password} may not read this (sent ${req.headers['authorization']})`,
          );
        },
      });
      const result = await runCli(
        [
          '--image',
          `${server.host}/app`,
          '--tag',
          'v1',
          '--source',
          UNKNOWN,
          '--username',
          username,
          '--password-stdin',
        ],
        { stdin: `${password}\n` },
      );
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      const last = result.stderr.trimEnd().split('\n').at(-1) ?? '';
      expect(last).toMatch(/^manifest-merge: /);
      expect(last).toContain(server.host);
      expect(last).toContain('400 DENIED');
      expect(last).toContain('with password *** may not read this (sent Basic ***)');
      expect(result.stderr).not.toContain(password);
      expect(result.stderr).not.toContain(basic.slice('Basic '.length));
      // The password was sent (Basic, to the origin it is for) and answered with the 400.
      expect(server.log.some((entry) => entry.headers['authorization'] === basic)).toBe(true);
    },
    FAST,
  );
});

describe('tag writes the registry refuses', () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  beforeAll(async () => {
    ({ reg, proxy } = await startProxiedRegistry());
  });
  afterAll(() => stopProxiedRegistry(reg, proxy));
  afterEach(() => proxy.setHandler(undefined));

  /** Tag PUTs (not by digest) the proxy saw since `from`, as their tag names. */
  function tagPuts(repo: string, from: number): string[] {
    const prefix = `/v2/${repo}/manifests/`;
    return proxy.log
      .slice(from)
      .filter(
        (e) => e.method === 'PUT' && e.path.startsWith(prefix) && !e.path.startsWith(`${prefix}sha256:`),
      )
      .map((e) => e.path.slice(prefix.length));
  }

  /** A proxy rule for tag PUTs of `repo`: `answer` decides, everything else goes through. */
  function onTagPut(
    repo: string,
    answer: (tag: string, forward: () => Promise<ProxyResponse>) => Promise<ProxyResponse | undefined>,
  ): void {
    const prefix = `/v2/${repo}/manifests/`;
    proxy.setHandler(async (req, forward) => {
      if (req.method === 'PUT' && req.path.startsWith(prefix) && !req.path.startsWith(`${prefix}sha256:`)) {
        return (await answer(req.path.slice(prefix.length), () => forward())) ?? forward();
      }
      return forward();
    });
  }

  const errorReply = (status: number, code: string, message: string): ProxyResponse => ({
    status,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(errorBody([{ code, message, detail: {} }])),
  });

  test(
    'a tag PUT answered 404 NAME_UNKNOWN fails at once, saying the repository does not exist',
    async () => {
      const repo = 'refused/missing-repo';
      const images = await pushImages(reg, repo, { format: 'docker', seed: 'name-unknown' });
      onTagPut(repo, async () => errorReply(404, 'NAME_UNKNOWN', 'repository name not known to registry'));
      const before = proxy.log.length;
      // Default wait-timeout (120 s): NAME_UNKNOWN is not read-after-write lag and must not be waited out.
      const result = await runAction({
        image: `${proxy.host}/${repo}`,
        tags: 'v1',
        sources: sourcesOf(images),
      });
      expect(result.code, result.stdout).toBe(1);
      const error = errorLine(result);
      expect(error).toContain(`${proxy.host}/${repo}:v1`);
      expect(error).toContain('NAME_UNKNOWN');
      expect(error).toContain(`The repository ${proxy.host}/${repo} does not exist: create it first`);
      expect(tagPuts(repo, before)).toEqual(['v1']);
      expect(await served(reg, repo, 'v1')).toBeNull();
    },
    FAST,
  );

  test(
    'one tag of three refused with 403 DENIED: the error and the outputs say exactly which tags moved',
    async () => {
      const repo = 'refused/partial';
      const image = `${proxy.host}/${repo}`;
      const images = await pushImages(reg, repo, { format: 'docker', seed: 'partial' });
      onTagPut(repo, async (tag) =>
        tag === 'b' ? errorReply(403, 'DENIED', 'requested access to the resource is denied') : undefined,
      );
      const before = proxy.log.length;
      const result = await runAction({ image, tags: 'a,b,c', sources: sourcesOf(images) });
      expect(result.code, result.stdout).toBe(1);
      const digest = result.outputs['digest'] ?? '';
      expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);

      const error = errorLine(result);
      expect(error).toContain(`Now serving ${digest}: ${image}:a, ${image}:c.`);
      expect(error).toContain(`Not serving it: ${image}:b: PUT `);
      expect(error).toContain('403 DENIED');
      expect(error).toContain('immutable or protected');
      expect(error).not.toContain('need push access');

      expect(result.outputs['ref']).toBe(`${image}@${digest}`);
      expect(JSON.parse(result.outputs['tags'] ?? '')).toEqual([`${image}:a`, `${image}:c`]);
      expect(result.outputs['written']).toBe('true');
      expect(Object.keys(result.outputs).sort()).toEqual(['digest', 'ref', 'tags', 'written']);
      expect(result.summary).toContain('Published only in part');
      expect(result.summary).toMatch(/\| <code>b<\/code> \| Not written: /);
      expect(result.summary).not.toMatch(/\| <code>[ac]<\/code> \| Not written/);
      expect(result.summary).toMatch(/\| <code>a<\/code> \| Written \|/);

      expect(tagPuts(repo, before).sort()).toEqual(['a', 'b', 'c']);
      expect(await served(reg, repo, 'a')).toBe(digest);
      expect(await served(reg, repo, 'c')).toBe(digest);
      expect(await served(reg, repo, 'b')).toBeNull();
    },
    FAST,
  );

  test(
    "a refusal's URLs, www., mentions and addresses show in the job summary as text, never as links",
    async () => {
      const repo = 'refused/links';
      const image = `${proxy.host}/${repo}`;
      const images = await pushImages(reg, repo, { format: 'docker', seed: 'links' });
      const said =
        'denied: see https://evil.example/login or www.evil.example, ask @org/admins or ops@evil.example, #12';
      onTagPut(repo, async (tag) => (tag === 'b' ? errorReply(403, 'DENIED', said) : undefined));
      const result = await runAction({ image, tags: 'a,b', sources: sourcesOf(images) });
      expect(result.code, result.stdout).toBe(1);
      const row = result.summary
        .split('\n')
        .find((line) => line.startsWith('| <code>b</code> | Not written:'));
      // GitHub links these with no Markdown around them, and decodes entities first.
      const decoded = (row ?? '').replace(/&#(\d+);/g, (_, code: string) =>
        String.fromCharCode(Number(code)),
      );
      // The words are all there, as text.
      expect(decoded.replaceAll('\u2060', '')).toContain(said);
      expect(decoded).not.toMatch(/https?:\/\//);
      expect(decoded).not.toMatch(/\bwww\./i);
      expect(decoded).not.toMatch(/(^|\W)@\w/);
      expect(decoded).not.toMatch(/\w@\w/);
      expect(decoded).not.toMatch(/#\d/);
      expect(await served(reg, repo, 'b')).toBeNull();
    },
    FAST,
  );

  describe('immutable tags (ECR TAG_INVALID)', () => {
    const repo = 'refused/immutable';
    const image = () => `${proxy.host}/${repo}`;
    const immutable = errorReply(
      400,
      'TAG_INVALID',
      "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the tag is immutable.",
    );
    let images: PushedImage[];
    let first = '';

    beforeAll(async () => {
      images = await pushImages(reg, repo, { format: 'docker', seed: 'immutable' });
    });

    test(
      'a first tag PUT that reached the registry but was answered TAG_INVALID is success: the tag serves our digest',
      async () => {
        let answered = 0;
        onTagPut(repo, async (_tag, forward) => {
          const stored = await forward();
          // The registry stored it; the client is told otherwise (a lost answer, then an immutable-tag refusal).
          return answered++ === 0 && stored.status === 201 ? immutable : stored;
        });
        const before = proxy.log.length;
        const result = await runAction({ image: image(), tags: 'v1', sources: sourcesOf(images) });
        expect(result.code, result.stdout).toBe(0);
        first = result.outputs['digest'] ?? '';
        expect(first).toMatch(/^sha256:[a-f0-9]{64}$/);
        expect(JSON.parse(result.outputs['tags'] ?? '')).toEqual([`${image()}:v1`]);
        expect(result.outputs['written']).toBe('true');
        // Decided by reading the tag, not by PUTting again.
        expect(tagPuts(repo, before)).toEqual(['v1']);
        expect(await served(reg, repo, 'v1')).toBe(first);
      },
      FAST,
    );

    test(
      'a re-run with every tag PUT refused succeeds without a tag PUT: the tag already holds the digest',
      async () => {
        expect(first).not.toBe('');
        onTagPut(repo, async () => immutable);
        const before = proxy.log.length;
        const result = await runAction({
          image: image(),
          tags: 'v1',
          sources: sourcesOf(images),
          'if-tag-exists': 'overwrite',
        });
        expect(result.code, result.stdout).toBe(0);
        expect(result.outputs['digest']).toBe(first);
        expect(result.outputs['written']).toBe('false');
        expect(JSON.parse(result.outputs['tags'] ?? '')).toEqual([`${image()}:v1`]);
        expect(tagPuts(repo, before)).toEqual([]);
      },
      FAST,
    );

    test(
      'a tag at another digest refused with TAG_INVALID fails with the immutable explanation, tag unchanged',
      async () => {
        expect(first).not.toBe('');
        const others = await pushImages(reg, repo, { format: 'docker', seed: 'immutable-next' });
        onTagPut(repo, async () => immutable);
        const before = proxy.log.length;
        const result = await runAction({ image: image(), tags: 'v1', sources: sourcesOf(others) });
        expect(result.code, result.stdout).toBe(1);
        const error = errorLine(result);
        expect(error).toContain(`${image()}:v1`);
        expect(error).toContain('400 TAG_INVALID');
        expect(error).toContain('immutable or protected');
        expect(error).toContain('Publish a new tag');
        expect(result.outputs['digest']).not.toBe(first);
        expect(result.outputs['written'] ?? 'false').toBe('false');
        expect(JSON.parse(result.outputs['tags'] ?? '[]')).toEqual([]);
        expect(tagPuts(repo, before)).toEqual(['v1']);
        expect(await served(reg, repo, 'v1')).toBe(first);
      },
      FAST,
    );
  });

  test(
    'if-tag-exists: skip with every tag skipped: no tag moves, yet ref resolves',
    async () => {
      const repo = 'refused/skip-all';
      const image = `${proxy.host}/${repo}`;
      const old = await pushImages(reg, repo, { format: 'docker', seed: 'skip-old' });
      const setup = await runAction({ image, tags: 'x,y', sources: sourcesOf(old) });
      expect(setup.code, setup.stdout).toBe(0);
      const held = setup.outputs['digest'] ?? '';

      const next = await pushImages(reg, repo, { format: 'docker', seed: 'skip-new' });
      const inputs = { image, tags: 'x,y', sources: sourcesOf(next), 'if-tag-exists': 'skip' };
      const dry = await runAction({ ...inputs, 'dry-run': 'true' });
      expect(dry.code, dry.stdout).toBe(0);
      const digest = dry.outputs['digest'] ?? '';
      expect(digest).not.toBe(held);
      // Not stored anywhere yet.
      expect(await served(reg, repo, digest)).toBeNull();

      const before = proxy.log.length;
      const result = await runAction(inputs);
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs['digest']).toBe(digest);
      expect(result.outputs['ref']).toBe(`${image}@${digest}`);
      expect(result.outputs['written']).toBe('false');
      expect(JSON.parse(result.outputs['tags'] ?? '')).toEqual([]);
      expect(tagPuts(repo, before)).toEqual([]);
      // `ref` resolves: the index was stored by digest though no tag moved.
      const stored = await fetchManifest(reg, repo, digest);
      expect(stored.status).toBe(200);
      expect(stored.text).toBe(result.outputs['manifest']);
      expect(await served(reg, repo, 'x')).toBe(held);
      expect(await served(reg, repo, 'y')).toBe(held);
    },
    FAST,
  );
});
