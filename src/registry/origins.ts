import { isLoopback } from './loopback.js';
import { ConnectionError } from './network.js';

const MAX_REDIRECTS = 3;

/** An upload `Location` or redirect target, and whether the registry's credentials may follow it there. */
export function sameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

/** Credentials never travel in clear text except to this machine (SPEC Guarantee 6). */
export function assertSafeForCredentials(url: string): void {
  const { protocol, host } = new URL(url);
  if (protocol === 'http:' && !isLoopback(host)) {
    throw new ConnectionError(
      `refusing to send credentials in clear text to http://${host}: use HTTPS for this registry (plain-http ` +
        'is only safe without credentials, or on this machine)',
    );
  }
}

/**
 * Follows redirects (at most MAX_REDIRECTS) from a first answer. Credentials go only to the origin they are for:
 * storage redirects (S3, CDNs) never see them, nor does https->http on one host.
 */
export async function followRedirects<
  R extends { status: number; headers: Readonly<Record<string, string>> },
>(
  start: string,
  authorization: string | undefined,
  first: R,
  send: (url: string, authorization: string | undefined) => Promise<R>,
  drop: (response: R) => void,
): Promise<{ response: R; url: string }> {
  let response = first;
  let url = start;
  let credentials = authorization;
  for (let hop = 0; hop < MAX_REDIRECTS && isRedirect(response.status); hop++) {
    const location = response.headers['location'];
    if (!location) break;
    const next = new URL(location, url).toString();
    if (!sameOrigin(next, url)) credentials = undefined;
    drop(response);
    url = next;
    response = await send(url, credentials);
  }
  return { response, url };
}

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}
