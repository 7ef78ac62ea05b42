import type { Dispatcher } from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import AgentClass from 'undici/lib/dispatcher/agent.js';

/**
 * Just the parts of undici the client uses: a connection-pooling Agent and `request`. The package's entry point
 * also loads fetch, WebSocket, caches and mocks, which doubles the bundle and adds about 20 ms to every start
 * (measured: see docs/benchmarks.md). undici is pinned to an exact version, so these paths do not move.
 */
export const Agent = AgentClass;
export type Agent = InstanceType<typeof AgentClass>;

export function request(
  dispatcher: Dispatcher,
  url: string,
  options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>,
): Promise<Dispatcher.ResponseData> {
  const parsed = new URL(url);
  return apiRequest.call(dispatcher, {
    ...options,
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
  });
}
