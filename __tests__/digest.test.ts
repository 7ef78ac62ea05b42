import { expect, test } from 'vitest';
import {
  DigestMismatchError,
  digestOf,
  isDigest,
  parseDigest,
  verifyDigest,
} from '../src/registry/digest.js';

const bytes = new TextEncoder().encode('hello');
const HELLO = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

test('sha256 of bytes', () => {
  expect(digestOf(bytes)).toBe(HELLO);
  expect(digestOf(bytes, 'sha512')).toMatch(/^sha512:[a-f0-9]{128}$/);
});

test('verify accepts the right digest and names the mismatch', () => {
  expect(() => verifyDigest(bytes, HELLO, 'x')).not.toThrow();
  const other = `sha256:${'0'.repeat(64)}` as const;
  expect(() => verifyDigest(bytes, other, 'ghcr.io/a@x')).toThrow(DigestMismatchError);
  expect(() => verifyDigest(bytes, other, 'ghcr.io/a@x')).toThrow(`expected ${other}, got ${HELLO}`);
  expect(() => verifyDigest(bytes, digestOf(bytes, 'sha512'), 'x')).not.toThrow();
});

test.each([
  ['sha256:abc', /not a digest/],
  ['md5:2cf24dba5fb0a30e26e83b2ac5b9e29e', /not a digest/],
  [HELLO.toUpperCase().replace('SHA256', 'sha256'), /lowercase/],
  [` ${HELLO}`, /not a digest/],
])('parseDigest refuses %s', (value, message) => {
  expect(isDigest(value)).toBe(false);
  expect(() => parseDigest(value, 'sources')).toThrow(message);
  expect(() => parseDigest(value, 'sources')).toThrow(/^sources "/);
});
