import { expect, test } from 'vitest';
import { noProxy } from '../src/registry/no-proxy.js';

/** NO_PROXY as Docker and curl users write it. */
test.each([
  // A plain domain covers itself and every host below it, with or without a leading dot or *.
  ['corp.example', 'https://registry.corp.example/v2/', true],
  ['corp.example', 'https://corp.example/v2/', true],
  ['.corp.example', 'https://registry.corp.example/v2/', true],
  ['*.corp.example', 'https://a.b.corp.example/v2/', true],
  ['corp.example', 'https://notcorp.example/v2/', false],
  ['corp.example', 'https://corp.example.evil.test/v2/', false],
  ['CORP.Example.', 'https://Registry.corp.example./v2/', true],
  // Ports: only the one given; the scheme's default when the URL has none.
  ['registry.corp:5000', 'https://registry.corp:5000/v2/', true],
  ['registry.corp:5000', 'https://registry.corp/v2/', false],
  ['registry.corp:443', 'https://registry.corp/v2/', true],
  // Addresses and CIDR ranges, for hosts given as addresses.
  ['10.0.0.0/8', 'https://10.20.30.40/v2/', true],
  ['10.0.0.0/8', 'https://11.0.0.1/v2/', false],
  ['192.168.1.7', 'https://192.168.1.7:5000/v2/', true],
  ['192.168.1.7:5000', 'https://192.168.1.7:5001/v2/', false],
  ['[::1]', 'https://[::1]:5000/v2/', true],
  ['::1', 'https://[::1]/v2/', true],
  ['[::1]:5000', 'https://[::1]:5000/v2/', true],
  ['[::1]:5000', 'https://[::1]:6000/v2/', false],
  ['fd00::/8', 'https://[fd12::3]/v2/', true],
  ['fd00::/8', 'https://[fe80::1]/v2/', false],
  // A name is not looked up to match a range.
  ['127.0.0.0/8', 'https://localhost/v2/', false],
  // Several entries, separated by commas and/or spaces; * for everything.
  ['ghcr.io, 10.0.0.0/8  internal', 'https://registry.internal/v2/', true],
  ['*', 'https://anything.example/v2/', true],
  ['', 'https://anything.example/v2/', false],
  ['10.0.0.0/99, not a range/8', 'https://10.0.0.1/v2/', false],
  // An empty or non-digit prefix is no range, not /0 (every address).
  ['10.0.0.0/', 'https://93.184.216.34/v2/', false],
  ['10.0.0.0/', 'https://10.0.0.0/v2/', false],
  ['10.0.0.0/ 8', 'https://93.184.216.34/v2/', false],
  ['10.0.0.0/+8', 'https://10.1.2.3/v2/', false],
  ['fd00::/', 'https://[fe80::1]/v2/', false],
])('NO_PROXY=%j for %s: direct %s', (value, url, direct) => {
  expect(noProxy(value)(new URL(url))).toBe(direct);
});
