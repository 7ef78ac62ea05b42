import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAction } from './helpers/action.js';
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
      expect(result.stdout).toContain(`HTTPS_PROXY: https requests go through ${new URL(tunnel.url).host}`);
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
