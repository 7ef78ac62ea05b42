import { errorCode } from './errors.js';

/**
 * Failures below HTTP, told apart so each gets a message a user can act on (SPEC Guarantee 4): a registry that
 * cannot be reached, a TLS/plain-HTTP mismatch, an untrusted certificate, a host name that does not resolve.
 */

/** How long a registry that refuses connections is retried before the run gives up on it. */
export const CONNECT_BUDGET_MS = 30_000;

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * What HTTPS servers answer a plain-HTTP request with (status 400): Go's net/http, which distribution, zot and
 * Harbor run on, and nginx. No error code comes with it, so its words are all there is to tell it by.
 */
const HTTPS_ONLY =
  /Client sent an HTTP request to an HTTPS server|The plain HTTP request was sent to HTTPS port/i;

/** The other direction of a TLS/plain-HTTP mismatch: `origin` (http://) answered that it speaks HTTPS. */
export function explainHttpsOnly(origin: string, body: string): ConnectionError | undefined {
  const said = HTTPS_ONLY.exec(body)?.[0];
  if (said === undefined) return undefined;
  return new ConnectionError(
    `${origin} speaks HTTPS: it answered the plain-HTTP request with 400 "${said}". Drop plain-http: true ` +
      '(or, for a registry on localhost or 127.0.0.0/8, set plain-http: false) so it is reached over HTTPS',
  );
}

/** The registry could not be connected to at all (as opposed to a connection that broke mid-request). */
export function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && UNREACHABLE.has(code);
}

/** A failure that already says what is wrong with the registry's address or transport; never retried. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

/**
 * Explains a failure below HTTP for `origin` (`https://host:port`), or returns undefined when it is not one
 * (an HTTP answer, or a failure of our own).
 */
export function explainNetworkError(error: unknown, origin: string, waitedMs: number): Error | undefined {
  if (error instanceof ConnectionError) return error;
  const code = errorCode(error);
  const name = (error as { name?: unknown } | undefined)?.name;
  const { host, protocol } = new URL(origin);
  if (name === 'TimeoutError') {
    return new ConnectionError(
      `${origin} did not finish answering in time (the request was cut at wait-timeout or after 60 s): ` +
        'the registry or the network is too slow; try again, or raise wait-timeout',
    );
  }
  if (code === undefined) return undefined;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return new ConnectionError(
      `${origin} did not answer in TLS (${code}): it looks like a plain-HTTP registry. If it is one on a network ` +
        'you trust, set plain-http: true; otherwise check the registry host and port',
    );
  }
  if (CERTIFICATE.has(code)) {
    return new ConnectionError(
      `${origin} presented a TLS certificate that is not trusted (${code}): give Node its CA certificate with ` +
        "NODE_EXTRA_CA_CERTS=/path/to/ca.pem in the step's env (or NODE_USE_SYSTEM_CA=1 when the runner's " +
        'system store has it, as a TLS-inspecting proxy needs), or fix the certificate',
    );
  }
  if (code === 'ERR_PROXY_TUNNEL') {
    const { statusCode: status, variable: named } = error as { statusCode?: unknown; variable?: unknown };
    const variable = typeof named === 'string' ? named : 'HTTPS_PROXY';
    return new ConnectionError(
      `the proxy in ${variable} did not open a tunnel to ${host}${typeof status === 'number' ? ` (it answered ${status})` : ''}: ` +
        `check the proxy address and its credentials in ${variable}, or list the registry in NO_PROXY`,
    );
  }
  if (code === 'ENOTFOUND') {
    return new ConnectionError(
      `cannot resolve the host name ${host} (ENOTFOUND): check the registry in "image" or in the source entry`,
    );
  }
  if (isUnreachable(error)) {
    const after = waitedMs >= 1000 ? ` for ${Math.round(waitedMs / 1000)} s` : '';
    const scheme = protocol === 'http:' ? 'plain HTTP' : 'HTTPS';
    return new ConnectionError(
      `cannot connect to ${origin} (${code}, tried${after}): check the registry host and port, that the ` +
        `registry is running, and that it serves ${scheme} there`,
    );
  }
  return undefined;
}
