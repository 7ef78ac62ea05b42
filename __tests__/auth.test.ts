import { describe, expect, test } from 'vitest';
import { basicAuthorization, parseChallenges, ScopeSet } from '../src/registry/auth.js';

describe('parseChallenges', () => {
  test.each([
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/app:pull,push"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://ghcr.io/token',
            service: 'ghcr.io',
            scope: 'repository:org/app:pull,push',
          },
        },
      ],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    ['basic', [{ scheme: 'basic', params: {} }]],
    [
      'Bearer realm=https://auth.example/token, service=reg',
      [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg' } }],
    ],
    [
      'Bearer realm="a\\"b", error="invalid_token"',
      [{ scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } }],
    ],
    [
      'Basic realm="x", Bearer realm="https://t/token",service="s"',
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
      ],
    ],
    ['', []],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });
});

describe('ScopeSet', () => {
  test('merges actions per repository and sorts, push scopes first (some registries read only the first)', () => {
    const set = new ScopeSet()
      .add({ repository: 'z/app', actions: ['pull'] })
      .add({ repository: 'b/src', actions: ['pull'] })
      .add({ repository: 'a/src', actions: ['pull'] })
      .add({ repository: 'z/app', actions: ['push', 'pull'] });
    expect(set.toStrings()).toEqual([
      'repository:z/app:pull,push',
      'repository:a/src:pull',
      'repository:b/src:pull',
    ]);
    expect(set.covers({ repository: 'z/app', actions: ['push'] })).toBe(true);
    expect(set.covers({ repository: 'a/src', actions: ['push'] })).toBe(false);
    expect(set.covers({ repository: 'other', actions: ['pull'] })).toBe(false);
  });

  test('clone is independent', () => {
    const set = new ScopeSet().add({ repository: 'a', actions: ['pull'] });
    const copy = set.clone().add({ repository: 'b', actions: ['pull'] });
    expect(set.key()).toBe('repository:a:pull');
    expect(copy.key()).toBe('repository:a:pull repository:b:pull');
  });
});

test('basic authorization header', () => {
  expect(basicAuthorization('u', 'p:w')).toBe(`Basic ${Buffer.from('u:p:w').toString('base64')}`);
});
