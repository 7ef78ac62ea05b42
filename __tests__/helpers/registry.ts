import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Agent, request } from 'undici';
import { freePort, makeTempDir, removeLeftoverTempDirs, removeTempDir, selfSignedCert } from './local.js';
import { startProxy, type TestProxy } from './proxy.js';
import { startTokenServer, type TokenServer } from './token-server.js';

/** Starts a real CNCF distribution registry (`docker-registry serve`) in a temp folder, per test file. */

export type AuthMode = 'none' | 'htpasswd' | 'token';

export interface TestRegistry {
  readonly host: string;
  /** `http://host`, or `https://host` when started with `tls`. */
  readonly url: string;
  /** With `tls`: the registry's self-signed certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caPath: string | undefined;
  readonly auth: AuthMode;
  /** Valid credentials ('' for 'none'). */
  readonly username: string;
  readonly password: string;
  readonly tokenServer: TokenServer | undefined;
  /**
   * An Authorization header value with push+pull, for seeding fixtures without going through the code under
   * test. Basic for htpasswd; for token mode a JWT minted directly (no HTTP request, so token-request counts
   * stay clean). The registry has no wildcard repository names in token access claims, so in token mode the
   * repositories must be listed (throws otherwise); htpasswd ignores them. undefined for 'none'.
   */
  adminAuthorization(...repositories: string[]): string | undefined;
  readonly storageDir: string;
  /** Kills the process, closes the token server, removes temp dirs; idempotent. */
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  auth?: AuthMode;
  tokenTtlSeconds?: number;
  /** Token mode: more users, each with the only repositories its tokens may reach. */
  scopedUsers?: Record<string, { password: string; repositories: readonly string[] }>;
  /** Serve HTTPS with a fresh self-signed certificate for 127.0.0.1, as the registry's own `http.tls` does. */
  tls?: boolean;
}

export const TOKEN_SERVICE = 'manifest-merge-test';
export const TOKEN_ISSUER = 'manifest-merge-test-issuer';

/** Names the registry binary: Debian's package calls it docker-registry, Fedora's and the releases registry. */
export const REGISTRY_BIN_VARIABLE = 'MANIFEST_MERGE_REGISTRY_BIN';
const BINARY_NAMES = ['docker-registry', 'registry'] as const;

/**
 * The CNCF distribution registry to start: $MANIFEST_MERGE_REGISTRY_BIN (a path, or a name on PATH), else
 * docker-registry, else registry on PATH. Throws a message that names the variable when none is there.
 */
export function registryBinary(
  env: Readonly<Record<string, string | undefined>> = process.env,
  found: (binary: string) => boolean = (binary) =>
    binary.includes('/') ? executable(binary) : onPath(binary, env['PATH']),
): string {
  const chosen = env[REGISTRY_BIN_VARIABLE]?.trim();
  if (chosen) {
    if (found(chosen)) return chosen;
    throw new Error(
      `${REGISTRY_BIN_VARIABLE}=${chosen} is not an executable file: point it at the CNCF distribution ` +
        'registry binary (docker-registry on Debian/Ubuntu, registry elsewhere), or unset it',
    );
  }
  const name = BINARY_NAMES.find(found);
  if (name) return name;
  throw new Error(
    'the real-registry tests need the CNCF distribution registry, and found neither docker-registry nor ' +
      `registry on PATH: set ${REGISTRY_BIN_VARIABLE} to its binary, or on Debian/Ubuntu, as root, run ` +
      '.ci/setup (apt-get update && apt-get install -y docker-registry)',
  );
}
const READY_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;
const KILL_GRACE_MS = 2_000;
const STDERR_KEEP_BYTES = 4_096;
const PORT_ATTEMPTS = 3;

// A crashed test file must not leak registry processes or temp dirs, so clean up whatever is left on exit.
const liveChildren = new Set<ChildProcess>();
const killLeftovers = (): void => {
  for (const child of liveChildren) child.kill('SIGKILL');
  // Only synchronous work runs this late.
  removeLeftoverTempDirs();
};
process.on('exit', killLeftovers);
// vitest ends fork workers with SIGTERM, whose default action skips 'exit' listeners. Listen only while
// registries run, then re-raise so the worker still terminates the way it would have.
const onSigterm = (): void => {
  killLeftovers();
  process.removeListener('SIGTERM', onSigterm);
  if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
};

function track(child: ChildProcess): void {
  if (liveChildren.size === 0) process.on('SIGTERM', onSigterm);
  liveChildren.add(child);
  child.once('exit', () => {
    liveChildren.delete(child);
    if (liveChildren.size === 0) process.removeListener('SIGTERM', onSigterm);
  });
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'none';
  const binary = registryBinary();

  const dir = await makeTempDir('manifest-merge-registry-');
  const storageDir = join(dir, 'storage');
  let tokenServer: TokenServer | undefined;
  try {
    const username = auth === 'none' ? '' : 'ci-user';
    const password = auth === 'none' ? '' : randomBytes(12).toString('base64url');
    let authYaml = '';
    if (auth === 'htpasswd') {
      const htpasswdPath = join(dir, 'htpasswd');
      // The registry only understands bcrypt entries; cost 5 keeps start-up fast.
      await writeFile(htpasswdPath, `${username}:${bcrypt.hashSync(password, 5)}\n`);
      authYaml = ['auth:', '  htpasswd:', '    realm: manifest-merge-test', `    path: ${htpasswdPath}`].join(
        '\n',
      );
    } else if (auth === 'token') {
      const { keyPem, certPem, certPath } = await selfSignedCert(dir, '/CN=manifest-merge-test-token');
      tokenServer = await startTokenServer({
        keyPem,
        certPem,
        service: TOKEN_SERVICE,
        issuer: TOKEN_ISSUER,
        users: {
          [username]: password,
          ...Object.fromEntries(Object.entries(options.scopedUsers ?? {}).map(([u, s]) => [u, s.password])),
        },
        repositories: Object.fromEntries(
          Object.entries(options.scopedUsers ?? {}).map(([u, s]) => [u, s.repositories]),
        ),
        ...(options.tokenTtlSeconds === undefined ? {} : { ttlSeconds: options.tokenTtlSeconds }),
      });
      authYaml = [
        'auth:',
        '  token:',
        `    realm: ${tokenServer.url}`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${certPath}`,
      ].join('\n');
    }

    let tls: Tls | undefined;
    if (options.tls) {
      const tlsDir = join(dir, 'tls');
      await mkdir(tlsDir);
      const cert = await selfSignedCert(tlsDir, '/CN=127.0.0.1', [
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ]);
      tls = { certPath: cert.certPath, keyPath: join(tlsDir, 'key.pem'), certPem: cert.certPem };
    }
    const { child, port } = await launch(binary, dir, storageDir, authYaml, tls);
    const host = `127.0.0.1:${port}`;
    const server = tokenServer;
    let stopping: Promise<void> | undefined;
    return {
      host,
      url: `${tls ? 'https' : 'http'}://${host}`,
      caPath: tls?.certPath,
      auth,
      username,
      password,
      tokenServer: server,
      storageDir,
      adminAuthorization(...repositories) {
        if (auth === 'htpasswd') return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
        if (server === undefined) return undefined;
        if (repositories.length === 0) {
          throw new Error(
            'token mode: pass the repositories to adminAuthorization(), tokens cannot wildcard names',
          );
        }
        return `Bearer ${server.mint(repositories.map((name) => ({ type: 'repository', name, actions: ['*'] })))}`;
      },
      stop() {
        stopping ??= (async () => {
          await kill(child);
          await server?.close();
          await removeTempDir(dir);
        })();
        return stopping;
      },
    };
  } catch (error) {
    await tokenServer?.close();
    await removeTempDir(dir);
    throw error;
  }
}

/** A real registry and the test proxy in front of it (requests to `proxy` reach `reg`). */
export interface ProxiedRegistry {
  readonly reg: TestRegistry;
  readonly proxy: TestProxy;
}

/** Starts a registry, then a proxy in front of it; the registry is stopped again when the proxy cannot start. */
export async function startProxiedRegistry(options: StartRegistryOptions = {}): Promise<ProxiedRegistry> {
  const reg = await startRegistry(options);
  try {
    return { reg, proxy: await startProxy(reg.url) };
  } catch (error) {
    await reg.stop();
    throw error;
  }
}

/** Closes the proxy, then stops the registry; either may be missing (start-up failed before it). */
export async function stopProxiedRegistry(
  reg: TestRegistry | undefined,
  proxy: TestProxy | undefined,
): Promise<void> {
  await proxy?.close();
  await reg?.stop();
}

/** Writes config.yml and starts the registry, retrying when the free port got taken in between. */
/** The registry's certificate and key files, and the certificate to trust while waiting for it. */
interface Tls {
  certPath: string;
  keyPath: string;
  certPem: string;
}

async function launch(
  binary: string,
  dir: string,
  storageDir: string,
  authYaml: string,
  tls?: Tls,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storageDir}`,
      '  delete:',
      '    enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      ...(tls ? ['  tls:', `    certificate: ${tls.certPath}`, `    key: ${tls.keyPath}`] : []),
      'health:',
      '  storagedriver:',
      '    enabled: false',
      authYaml,
      '',
    ].join('\n');
    await writeFile(join(dir, 'config.yml'), config);

    const child = spawn(binary, ['serve', 'config.yml'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    try {
      const scheme = tls ? 'https' : 'http';
      await waitReady(binary, child, `${scheme}://127.0.0.1:${port}/v2/`, () => output, tls?.certPem);
      return { child, port };
    } catch (error) {
      await kill(child);
      if (attempt < PORT_ATTEMPTS && output.includes('address already in use')) continue;
      throw error;
    }
  }
}

async function waitReady(
  binary: string,
  child: ChildProcess,
  url: string,
  output: () => string,
  ca?: string,
): Promise<void> {
  // A TLS registry's self-signed certificate is trusted for this wait only.
  const dispatcher = ca === undefined ? undefined : new Agent({ connect: { ca } });
  try {
    await pollReady(binary, child, url, output, dispatcher);
  } finally {
    await dispatcher?.close();
  }
}

async function pollReady(
  binary: string,
  child: ChildProcess,
  url: string,
  output: () => string,
  dispatcher: Agent | undefined,
): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `code ${code ?? 'null'}, signal ${signal ?? 'null'}`;
  });
  child.once('error', (error) => {
    exited = error.message;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${binary} exited during start-up (${exited}):\n${output()}`);
    try {
      const res = await request(url, {
        signal: AbortSignal.timeout(1_000),
        ...(dispatcher ? { dispatcher } : {}),
      });
      await res.body.arrayBuffer();
      if (res.statusCode === 200 || res.statusCode === 401) return;
    } catch {
      // Not listening yet.
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`${binary} did not answer ${url} within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** True when an executable of that name is on PATH. */
export function onPath(binary: string, path = process.env['PATH'] ?? ''): boolean {
  return path.split(delimiter).some((dir) => dir !== '' && executable(join(dir, binary)));
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
