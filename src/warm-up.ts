import { channel } from 'node:diagnostics_channel';

/** undici publishes on these for every request it makes, and once its headers are on the wire. */
const REQUEST_CREATED = channel('undici:request:create');
const REQUEST_SENT = channel('undici:client:sendHeaders');

/**
 * Runs `task` once the first requests are on the wire and the process has nothing else to do, so loading what
 * later steps need (the GitHub API client for `order-by: revision`) costs no time on the requests' path. "Nothing
 * else" is every request created so far sent, still so on the next turn of the event loop: with N sources, N
 * connections open one by one, and loading earlier would hold back the rest. Runs once; if the moment never
 * comes (a request fails before it is sent), whoever needs the loaded part loads it on first use.
 */
export function whileRequestsInFlight(task: () => void): void {
  let created = 0;
  let sent = 0;
  let scheduled = false;
  const onCreated = (): void => {
    created++;
  };
  const idle = (): void => {
    scheduled = false;
    if (sent < created) return;
    REQUEST_CREATED.unsubscribe(onCreated);
    REQUEST_SENT.unsubscribe(onSent);
    task();
  };
  const onSent = (): void => {
    sent++;
    if (sent >= created && !scheduled) {
      scheduled = true;
      setImmediate(idle);
    }
  };
  REQUEST_CREATED.subscribe(onCreated);
  REQUEST_SENT.subscribe(onSent);
}
