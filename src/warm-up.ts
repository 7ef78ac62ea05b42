import { REQUEST_CREATED, REQUEST_SENT } from './registry/node-transport.js';

/**
 * Loads what the first answers need and start-up leaves out, once the first requests are on the wire and the
 * process has nothing else to do: node:crypto, which takes 7 to 14 ms to load (docs/benchmarks.md) and hashes every
 * manifest and config read. "Nothing else" is every request created so far sent, still so on the next turn of the
 * event loop: with N sources, N connections open one by one, and loading earlier would hold back the rest.
 * Runs once; if the moment never comes (a request fails before it is sent), node:crypto loads on first use.
 */
export function warmUpWhileWaiting(warm: () => void = loadCrypto): void {
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
    warm();
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

function loadCrypto(): void {
  process.getBuiltinModule('node:crypto').createHash('sha256').update('').digest('hex');
}
