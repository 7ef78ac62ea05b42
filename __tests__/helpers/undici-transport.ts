import { type Dispatcher, request } from 'undici';
import { flatHeaders, readWhole, type StreamResponse, type Transport } from '../../src/registry/http.js';

/**
 * The client's Transport over an undici dispatcher, for tests that script registries in memory with undici's
 * MockAgent (no sockets). The product's own transport is src/registry/transport.ts, exercised by the
 * end-to-end tests against real and scripted servers.
 */
export function undiciTransport(dispatcher: Dispatcher): Transport {
  const open = async (req: Parameters<Transport['send']>[0]): Promise<StreamResponse> => {
    const response = await request(req.url, {
      dispatcher,
      method: req.method,
      headers: req.headers,
      body: req.body ?? null,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return { status: response.statusCode, headers: flatHeaders(response.headers), body: response.body };
  };
  return {
    stream: open,
    send: async (req, maxBytes) => readWhole(req, await open(req), maxBytes),
  };
}
