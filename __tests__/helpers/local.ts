import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * What the local test servers (real registries, token servers, the proxy, hostile servers) share: a port on
 * 127.0.0.1, temp folders that go even when a test file crashes, a throwaway certificate.
 */

/** Listens on a free port of 127.0.0.1 and returns it; rejects when the server cannot listen. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Binds port 0 to let the OS pick a free port, then releases it: nothing listens there afterwards. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Temp folders still there when the process exits are removed then; only synchronous work runs this late.
const liveDirs = new Set<string>();
let exitHookInstalled = false;

/** A fresh folder under the OS temp folder, named `prefix` plus random characters; removed at exit if left. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', removeLeftoverTempDirs);
  }
  liveDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** Removes every folder makeTempDir made that is still there, synchronously: for exit and signal handlers. */
export function removeLeftoverTempDirs(): void {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

export interface SelfSignedCert {
  keyPem: string;
  certPem: string;
  /** The certificate's file (cert.pem in the folder given). */
  certPath: string;
}

/**
 * A fresh self-signed EC P-256 certificate valid for two days, made with openssl as key.pem and cert.pem in `dir`.
 * `extensions` are passed as `-addext` values (e.g. a subjectAltName).
 */
export async function selfSignedCert(
  dir: string,
  subject: string,
  extensions: readonly string[] = [],
): Promise<SelfSignedCert> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    subject,
    ...extensions.flatMap((extension) => ['-addext', extension]),
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  const [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  return { keyPem, certPem, certPath };
}
