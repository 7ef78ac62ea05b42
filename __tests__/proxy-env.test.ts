import { expect, test } from 'vitest';
import { proxyChoice } from '../src/registry/proxy-env.js';

/** Which proxy https requests go through, decided once: what the log names and masks is what the client uses. */

function choose(env: Record<string, string>) {
  const secrets: string[] = [];
  const choice = proxyChoice(env, (value) => secrets.push(value));
  return { choice, secrets };
}

test('only the https variables are read; none set, no proxy', () => {
  expect(choose({ HTTP_PROXY: 'http://plain:3128', NO_PROXY: '.internal' }).choice).toBeUndefined();
});

test('the lower-case variable wins, as the client reads it: it is named, and its password is the one masked', () => {
  const { choice, secrets } = choose({
    HTTPS_PROXY: 'http://upper:upper-pw@upper.corp:3128',
    https_proxy: 'http://me:p%40ss@proxy.corp:3128',
    NO_PROXY: 'registry.corp',
    no_proxy: 'internal.corp',
  });

  expect(choice?.variable).toBe('https_proxy');
  expect(choice?.url?.host).toBe('proxy.corp:3128');
  expect(choice?.note).toBe(
    'https_proxy: https requests go through http://proxy.corp:3128 (hosts in no_proxy go direct)',
  );
  expect(secrets).toEqual(['p%40ss', 'p@ss']);
  expect(choice?.bypass(new URL('https://a.internal.corp/'))).toBe(true);
  expect(choice?.bypass(new URL('https://registry.corp/'))).toBe(false);
});

test('a value without a scheme is an http:// proxy, as curl and Docker read it', () => {
  const { choice } = choose({ HTTPS_PROXY: 'proxy.corp:3128' });
  expect(choice?.url?.href).toBe('http://proxy.corp:3128/');
  expect(choice?.note).toBe('HTTPS_PROXY: https requests go through http://proxy.corp:3128');
});

test('a socks5:// proxy is said to be ignored: requests go direct', () => {
  const { choice, secrets } = choose({ HTTPS_PROXY: 'socks5://u:sock-pw@socks.corp:1080' });
  expect(choice?.url).toBeUndefined();
  expect(choice?.note).toMatch(
    /^HTTPS_PROXY: socks5:\/\/ proxies are not supported and HTTPS_PROXY is ignored/,
  );
  expect(secrets).toContain('sock-pw');
});

test('an unparseable value is masked whole and refused, naming the variable and the fix', () => {
  const secrets: string[] = [];
  const value = 'http://me:s3cret@proxy.corp:port';
  expect(() => proxyChoice({ https_proxy: value }, (v) => secrets.push(v))).toThrow(
    'https_proxy is not a proxy URL (its value is masked): set it to http://[user:password@]host:port, or unset it',
  );
  expect(secrets).toEqual([value]);
});

test('a password that is not valid percent-encoding is masked as written, not a crash', () => {
  const { choice, secrets } = choose({ https_proxy: 'http://me:a%zz@proxy.corp:3128' });
  expect(choice?.url?.host).toBe('proxy.corp:3128');
  expect(secrets).toEqual(['a%zz', 'a%zz']);
});

test('a token given as the user name alone is masked, as written and decoded', () => {
  const { choice, secrets } = choose({ https_proxy: 'http://tok%2Fen@proxy.corp:3128' });
  expect(choice?.url?.host).toBe('proxy.corp:3128');
  expect(secrets).toEqual(['tok%2Fen', 'tok/en']);
  expect(choice?.note).not.toContain('tok');
});
