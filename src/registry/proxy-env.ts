import { type NoProxy, noProxy } from './no-proxy.js';

/**
 * Which proxy https requests go through, decided once, here, from the environment, and handed to the transport
 * as it is: what the log names and masks is exactly what the client uses. Read for https requests only: a
 * plain-HTTP registry is one on a network the user trusts, and a proxy would read its credentials in clear
 * (docs/registries.md, "Behind a proxy").
 *
 * Like curl, Node and undici, the lower-case variable wins when both cases are set (`https_proxy` over
 * `HTTPS_PROXY`, `no_proxy` over `NO_PROXY`). A value without a scheme is an http:// proxy, as curl and Docker
 * read it. Only http:// and https:// proxies are used; any other scheme (socks5://) is said to be ignored.
 */
export interface ProxyChoice {
  /** The variable that set it (`https_proxy` or `HTTPS_PROXY`). */
  readonly variable: string;
  /** Where https requests go through; undefined when the value is ignored. */
  readonly url: URL | undefined;
  /** Hosts that go direct, from the NO_PROXY variable. */
  readonly bypass: NoProxy;
  /** One line for the log: the variable, where requests go, and the NO_PROXY variable, secrets already masked. */
  readonly note: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The first of `names` that is set to something, as [name, value]. */
function firstSet(env: Env, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return [name, value];
  }
  return undefined;
}

/**
 * The proxy for https requests, or undefined when none is set. Registers the password a proxy URL carries as a
 * secret before anything can print it; an unparseable value is masked whole and refused, naming the variable.
 */
export function proxyChoice(env: Env, secret: (value: string) => void): ProxyChoice | undefined {
  const set = firstSet(env, ['https_proxy', 'HTTPS_PROXY']);
  if (set === undefined) return undefined;
  const [variable, value] = set;
  const bypassSet = firstSet(env, ['no_proxy', 'NO_PROXY']);
  const bypass = noProxy(bypassSet?.[1]);
  const direct = bypassSet ? ` (hosts in ${bypassSet[0]} go direct)` : '';
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
    if (url.hostname === '') throw new Error('no host');
  } catch {
    // It may hold a password somewhere we cannot find.
    secret(value);
    throw new Error(
      `${variable} is not a proxy URL (its value is masked): set it to http://[user:password@]host:port, or unset it`,
    );
  }
  // The password, or a token given as the user name alone (http://TOKEN@proxy), as written and decoded. A user
  // name beside a password is not masked: it is no secret, and masking a short one would blank it all over the log.
  const hidden = url.password || url.username;
  if (hidden) {
    secret(hidden);
    secret(decoded(hidden));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      variable,
      url: undefined,
      bypass,
      note: `${variable}: ${url.protocol}// proxies are not supported and ${variable} is ignored; https requests go direct`,
    };
  }
  return {
    variable,
    url,
    bypass,
    note: `${variable}: https requests go through ${url.protocol}//${url.host}${direct}`,
  };
}

/** Percent-decoded, or as it is when it is not valid percent-encoding (`a%zz`): decoding must not throw. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
