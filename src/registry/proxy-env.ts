/**
 * What the environment says about proxies, read for https requests only: a plain-HTTP registry is one on a network
 * the user trusts, and a proxy would read its credentials in clear (docs/registries.md, "Behind a proxy").
 */

/**
 * The proxy https requests go through, as `host:port` for the log, after registering the password its URL may carry
 * as a secret; undefined without one.
 */
export function httpsProxy(
  env: Readonly<Record<string, string | undefined>>,
  secret: (value: string) => void,
): string | undefined {
  const value = proxyOf(httpsProxyEnv(env));
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Node refuses it with its own error on the first https request; the value may hold a password.
    secret(value);
    return 'an unreadable HTTPS_PROXY';
  }
  if (url.password) {
    secret(url.password);
    secret(decodeURIComponent(url.password));
  }
  return url.host;
}

/** The variables Node's Agent reads for https requests, and only those; undefined when no proxy is set. */
export function httpsProxyEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> | undefined {
  const picked: Record<string, string> = {};
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
    const value = env[name];
    if (value) picked[name] = value;
  }
  return proxyOf(picked) === undefined ? undefined : picked;
}

function proxyOf(picked: Readonly<Record<string, string>> | undefined): string | undefined {
  return picked?.['HTTPS_PROXY'] ?? picked?.['https_proxy'];
}
