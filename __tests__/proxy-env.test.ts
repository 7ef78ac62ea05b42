import { expect, test } from 'vitest';
import { httpsProxy, httpsProxyEnv } from '../src/registry/proxy-env.js';

/** The proxy settings read from the environment: https ones only, the proxy named without its password. */
test('HTTPS_PROXY: only the https variables are read; the proxy is named by host, its password masked', () => {
  const env = {
    HTTP_PROXY: 'http://plain:3128',
    https_proxy: 'http://me:p%40ss@proxy.corp:3128',
    NO_PROXY: '.internal',
    PATH: '/bin',
  };
  const secrets: string[] = [];

  expect(httpsProxyEnv(env)).toEqual({ https_proxy: env.https_proxy, NO_PROXY: '.internal' });
  expect(httpsProxy(env, (value) => secrets.push(value))).toBe('proxy.corp:3128');
  expect(secrets).toEqual(['p%40ss', 'p@ss']);
  expect(httpsProxy({ HTTP_PROXY: 'http://plain:3128' }, () => {})).toBeUndefined();
  // NO_PROXY alone sets no proxy: the Agent is then made without proxy support.
  expect(httpsProxyEnv({ NO_PROXY: '.internal', http_proxy: 'http://plain:3128' })).toBeUndefined();
  expect(httpsProxy({ HTTPS_PROXY: 'not a url with a s3cret' }, (value) => secrets.push(value))).toBe(
    'an unreadable HTTPS_PROXY',
  );
  expect(secrets).toContain('not a url with a s3cret');
});
