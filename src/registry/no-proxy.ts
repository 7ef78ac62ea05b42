import { BlockList, isIP } from 'node:net';

/**
 * NO_PROXY as Docker and curl users write it: comma- or space-separated entries, each
 * - `*`: every host goes direct;
 * - a domain, with or without a leading `.` or `*.`: that host and every host below it
 *   (`corp.example` covers `registry.corp.example`);
 * - an IP address (`10.1.2.3`, `::1`, `[::1]`) or a CIDR range (`10.0.0.0/8`, `fd00::/8`): hosts given as an
 *   address in it (a name is not looked up to match a range, as in curl and Go);
 * - any of these with `:port`: only that port (the scheme's default when the URL has none).
 * Names are compared without case and without a trailing dot.
 */
export type NoProxy = (url: URL) => boolean;

interface DomainEntry {
  readonly domain: string;
  readonly port: string | undefined;
}

export function noProxy(value: string | undefined): NoProxy {
  const domains: DomainEntry[] = [];
  const ranges: { readonly list: BlockList; readonly port: string | undefined }[] = [];
  for (const raw of (value ?? '').split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return () => true;
    const { host, port } = splitPort(entry);
    const address = host.replace(/^\[(.*)\]$/, '$1');
    const [base = '', prefix] = address.split('/');
    const family = isIP(base);
    if (family !== 0) {
      const list = new BlockList();
      const type = family === 6 ? 'ipv6' : 'ipv4';
      // Digits only: Number('') is 0, and `10.0.0.0/` must not become /0, every address.
      if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) continue;
      const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
      if (bits > (family === 6 ? 128 : 32)) continue;
      list.addSubnet(base, bits, type);
      ranges.push({ list, port });
      continue;
    }
    const domain = host.replace(/^\*?\.+/, '').replace(/\.$/, '');
    if (domain !== '') domains.push({ domain, port });
  }
  return (url) => {
    const host = url.hostname
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/\.$/, '');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const family = isIP(host);
    if (family !== 0) {
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (ranges.some((range) => portMatches(range.port, port) && range.list.check(host, type))) return true;
    }
    return domains.some(
      (entry) =>
        portMatches(entry.port, port) && (host === entry.domain || host.endsWith(`.${entry.domain}`)),
    );
  };
}

function portMatches(wanted: string | undefined, port: string): boolean {
  return wanted === undefined || wanted === port;
}

/** `host:port`, `[v6]:port`, or a bare IPv6 address (whose colons are not a port). */
function splitPort(entry: string): { host: string; port: string | undefined } {
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] };
  const colons = entry.split(':').length - 1;
  const withPort = colons === 1 ? /^(.*):(\d+)$/.exec(entry) : null;
  return withPort ? { host: withPort[1] ?? '', port: withPort[2] } : { host: entry, port: undefined };
}
