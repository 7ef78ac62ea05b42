import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLine, runAction, visible } from './helpers/action.js';
import { type PushedImage, pushImages, served, sourcesOf } from './helpers/images.js';
import { makeTempDir, removeTempDir, selfSignedCert } from './helpers/local.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { startTunnelProxy, type TunnelProxy } from './helpers/tunnel-proxy.js';

/**
 * Runners behind a corporate proxy: https registries are reached through HTTPS_PROXY's tunnel (TLS end to end, the
 * proxy sees only the host), NO_PROXY goes direct, and a plain-HTTP registry never goes through a proxy, which
 * would read its credentials. The registry is the real one (htpasswd) behind a TLS front with a throwaway CA.
 */

let reg: TestRegistry;
let front: TestProxy;
let plain: TestProxy;
let caDir: string;
let caPath: string;
let images: PushedImage[];

beforeAll(async () => {
  reg = await startRegistry({ auth: 'htpasswd' });
  caDir = await makeTempDir('manifest-merge-proxy-env-');
  const cert = await selfSignedCert(caDir, '/CN=127.0.0.1', ['subjectAltName=IP:127.0.0.1']);
  caPath = cert.certPath;
  front = await startProxy(reg.url, { tls: cert });
  plain = await startProxy(reg.url);
  images = await pushImages(reg, 'proxied/app', { seed: 'proxy-env' });
});
afterAll(async () => {
  await Promise.all([front?.close(), plain?.close()]);
  await reg?.stop();
  if (caDir) await removeTempDir(caDir);
});

async function withTunnel<T>(
  options: { refuse?: number },
  body: (tunnel: TunnelProxy) => Promise<T>,
): Promise<T> {
  const tunnel = await startTunnelProxy(options);
  try {
    return await body(tunnel);
  } finally {
    await tunnel.close();
  }
}

/** A merge into the TLS front (`plain-http: false`: a loopback registry is otherwise taken for plain HTTP). */
function merge(host: string, tag: string, env: Record<string, string>) {
  return runAction(
    {
      image: `${host}/proxied/app`,
      tags: tag,
      sources: sourcesOf(images),
      username: reg.username,
      password: reg.password,
      'plain-http': 'false',
    },
    { NODE_EXTRA_CA_CERTS: caPath, ...env },
  );
}

describe('HTTPS_PROXY', () => {
  test('every request to an https registry goes through the tunnel; the proxy password is masked', async () => {
    await withTunnel({}, async (tunnel) => {
      const proxyUrl = tunnel.url.replace('http://', 'http://corp-user:proxy-pa55word@');
      const from = front.log.length;

      const result = await merge(front.host, 'tunnelled', { HTTPS_PROXY: proxyUrl });

      expect(result.code, result.stdout).toBe(0);
      expect(await served(reg, 'proxied/app', 'tunnelled')).toBe(result.outputs['digest']);
      expect(tunnel.log.length).toBeGreaterThan(0);
      expect(new Set(tunnel.log)).toEqual(new Set([`CONNECT ${front.host}`]));
      expect(front.log.length - from).toBeGreaterThan(0);
      expect(result.stdout).toContain(`HTTPS_PROXY: https requests go through ${tunnel.url}`);
      const printed = result.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
      expect(printed.join('\n')).not.toContain('proxy-pa55word');
      expect(result.stdout).toContain('::add-mask::proxy-pa55word');
    });
  });

  test('a registry listed in NO_PROXY is reached directly', async () => {
    await withTunnel({}, async (tunnel) => {
      const result = await merge(front.host, 'direct', { https_proxy: tunnel.url, NO_PROXY: '127.0.0.1' });

      expect(result.code, result.stdout).toBe(0);
      expect(await served(reg, 'proxied/app', 'direct')).toBe(result.outputs['digest']);
      expect(tunnel.log).toEqual([]);
    });
  });

  test('with https_proxy and HTTPS_PROXY both set, the one the client uses is the one named and masked', async () => {
    await withTunnel({}, async (lower) => {
      await withTunnel({}, async (upper) => {
        const result = await merge(front.host, 'lower-case', {
          https_proxy: lower.url.replace('http://', 'http://me:lower-pa55word@'),
          HTTPS_PROXY: upper.url.replace('http://', 'http://me:upper-pa55word@'),
        });

        expect(result.code, result.stdout).toBe(0);
        expect(new Set(lower.log)).toEqual(new Set([`CONNECT ${front.host}`]));
        expect(upper.log).toEqual([]);
        expect(result.stdout).toContain(`https_proxy: https requests go through ${lower.url}`);
        expect(result.stdout).toContain('::add-mask::lower-pa55word');
        expect(visible(result)).not.toContain('lower-pa55word');
      });
    });
  });

  test.each([
    ['a CIDR range', true, () => '127.0.0.0/8'],
    ['the host with its port', true, () => front.host],
    ['an IPv6 literal and *', true, () => '[::1], *'],
    ['the host on another port', false, () => '127.0.0.1:1'],
  ])('NO_PROXY with %s: direct %s', async (_name, direct, noProxy) => {
    await withTunnel({}, async (tunnel) => {
      const result = await merge(front.host, 'no-proxy', { HTTPS_PROXY: tunnel.url, NO_PROXY: noProxy() });

      expect(result.code, result.stdout).toBe(0);
      expect(tunnel.log.length > 0).toBe(!direct);
    });
  });

  test('a socks5:// proxy is said to be ignored, and requests go direct', async () => {
    await withTunnel({}, async (tunnel) => {
      const result = await merge(front.host, 'socks', {
        HTTPS_PROXY: 'socks5://me:sock-pa55word@127.0.0.1:1',
      });

      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toContain(
        'HTTPS_PROXY: socks5:// proxies are not supported and HTTPS_PROXY is ignored',
      );
      expect(visible(result)).not.toContain('sock-pa55word');
      expect(tunnel.log).toEqual([]);
    });
  });

  test('an unparseable proxy value fails the run naming the variable, with the value masked; no tag moves', async () => {
    const value = 'http://me:bad-pa55word@proxy.corp:port';
    const result = await merge(front.host, 'unparseable', { HTTPS_PROXY: value });

    expect(result.code).toBe(1);
    expect(errorLine(result)).toBe(
      '::error::HTTPS_PROXY is not a proxy URL (its value is masked): set it to http://[user:password@]host:port, or unset it',
    );
    expect(result.stdout).toContain(`::add-mask::${value}`);
    expect(visible(result)).not.toContain('bad-pa55word');
    expect(await served(reg, 'proxied/app', 'unparseable')).toBeNull();
  });

  test('a plain-HTTP registry never goes through a proxy, whatever HTTP_PROXY and HTTPS_PROXY say', async () => {
    await withTunnel({}, async (tunnel) => {
      const env = { HTTP_PROXY: tunnel.url, http_proxy: tunnel.url, HTTPS_PROXY: tunnel.url };
      const result = await runAction(
        {
          image: `${plain.host}/proxied/app`,
          tags: 'plain',
          sources: sourcesOf(images),
          username: reg.username,
          password: reg.password,
          'plain-http': 'true',
        },
        env,
      );

      expect(result.code, result.stdout).toBe(0);
      expect(await served(reg, 'proxied/app', 'plain')).toBe(result.outputs['digest']);
      expect(tunnel.log).toEqual([]);
    });
  });

  test('a proxy that refuses the tunnel fails the run at once, naming HTTPS_PROXY; no tag moves', async () => {
    await withTunnel({ refuse: 407 }, async (tunnel) => {
      const result = await merge(front.host, 'refused', { HTTPS_PROXY: tunnel.url });

      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        /::error::the proxy in HTTPS_PROXY did not open a tunnel to 127\.0\.0\.1:\d+ \(it answered 407\): check the proxy/,
      );
      // One attempt per request of the first round, none retried.
      expect(tunnel.log.length).toBeLessThanOrEqual(images.length);
      expect(await served(reg, 'proxied/app', 'refused')).toBeNull();
    });
  });
});
