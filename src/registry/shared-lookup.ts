import { type LookupAddress, type LookupOptions, lookup as systemLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * One DNS lookup per host name for a burst of connections. A round of N requests opens N connections at once,
 * and each would ask the system resolver for the same name: on resolvers that drop bursts of queries (seen with
 * 16 parallel lookups in CI, and the known five-second delay of containerised runners), a lost query is retried
 * by the C library after 5 s, which stalls the whole round. Addresses are kept for a short while, so a long wait
 * still follows a registry whose addresses change; a failed lookup is not kept.
 */

export type Resolve = (
  hostname: string,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** How long addresses are reused: far longer than a round, short against a long wait. */
export const LOOKUP_TTL_MS = 30_000;

const resolveAll: Resolve = (hostname, callback) => systemLookup(hostname, { all: true }, callback);

export function sharedLookup(resolve: Resolve = resolveAll, now: () => number = Date.now): LookupFunction {
  const known = new Map<string, { readonly at: number; readonly addresses: Promise<LookupAddress[]> }>();
  return (hostname, options, callback) => {
    let entry = known.get(hostname);
    if (entry === undefined || now() - entry.at > LOOKUP_TTL_MS) {
      const addresses = new Promise<LookupAddress[]>((fulfil, fail) =>
        resolve(hostname, (error, found) => (error ? fail(error) : fulfil(found))),
      );
      const made = { at: now(), addresses };
      known.set(hostname, made);
      addresses.catch(() => {
        if (known.get(hostname) === made) known.delete(hostname);
      });
      entry = made;
    }
    entry.addresses.then(
      (addresses) => {
        const wanted = ofFamily(addresses, options);
        const [first] = wanted;
        if (first === undefined) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          callback(error, []);
        } else if (options.all) callback(null, wanted);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

function ofFamily(addresses: readonly LookupAddress[], options: LookupOptions): LookupAddress[] {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
  return family === 0 ? [...addresses] : addresses.filter((address) => address.family === family);
}
