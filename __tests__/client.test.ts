import { expect, test } from 'vitest';
import { isLoopback } from '../src/registry/loopback.js';

// plain-http: auto speaks HTTP to these hosts only.
test.each([
  ['localhost', true],
  ['localhost:5000', true],
  ['127.0.0.1', true],
  ['127.1.2.3:8080', true],
  ['[::1]:5000', true],
  ['[::1]', true],
  ['localhost.example.com', false],
  ['127.0.0.1.nip.io', false],
  ['10.0.0.1:5000', false],
  ['ghcr.io', false],
  ['[::2]:5000', false],
])('%s is loopback: %s', (endpoint, expected) => {
  expect(isLoopback(endpoint)).toBe(expected);
});
