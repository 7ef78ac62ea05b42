import { expect, test } from 'vitest';
import { parseErrorBody, parseRetryAfter, RegistryError, redactUrl } from '../src/registry/errors.js';

test('error body codes', () => {
  const body = JSON.stringify({
    errors: [
      { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } },
      { code: 'denied', message: 'requested access to the resource is denied' },
    ],
  });
  expect(parseErrorBody(body)).toEqual([
    { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' },
    { code: 'DENIED', message: 'requested access to the resource is denied' },
  ]);
  expect(parseErrorBody('<html>502</html>')).toEqual([]);
  expect(parseErrorBody('{"errors":"nope"}')).toEqual([]);
});

test('RegistryError message and classification', () => {
  const error = new RegistryError({
    method: 'GET',
    url: 'https://user:pw@ghcr.io/v2/org/app/manifests/v1',
    status: 404,
    codes: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
  });
  expect(error.message).toBe(
    'GET https://ghcr.io/v2/org/app/manifests/v1: 404 MANIFEST_UNKNOWN: manifest unknown',
  );
  expect(error.hasCode('MANIFEST_UNKNOWN')).toBe(true);
  expect(error.hasCode('BLOB_UNKNOWN')).toBe(false);
  expect(new RegistryError({ method: 'HEAD', url: 'http://x/v2/', status: 503 }).message).toMatch(
    /503 Service Unavailable$/,
  );
});

test('redactUrl drops userinfo and secret query values, keeps protocol ones', () => {
  expect(redactUrl('https://u:p@r.io/v2/a/blobs/uploads/x?_state=SECRET&digest=sha256:1')).toBe(
    'https://r.io/v2/a/blobs/uploads/x?_state=REDACTED&digest=sha256%3A1',
  );
  const token = new URL(redactUrl('https://t.io/token?service=r&scope=repository:a:pull'));
  expect(token.searchParams.get('scope')).toBe('repository:a:pull');
  expect(redactUrl('not a url')).toBe('<invalid url>');
});

test('Retry-After in seconds or as a date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  expect(parseRetryAfter('3', now)).toBe(3000);
  expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
  expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  expect(parseRetryAfter('soon', now)).toBeUndefined();
  expect(parseRetryAfter(undefined, now)).toBeUndefined();
});
