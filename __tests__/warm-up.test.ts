import { channel } from 'node:diagnostics_channel';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { whileRequestsInFlight } from '../src/warm-up.js';

/** The task waits until every request made so far is on the wire, a turn of the event loop later, then runs once. */

// undici's own channels, published here as undici publishes them.
const REQUEST_CREATED = channel('undici:request:create');
const REQUEST_SENT = channel('undici:client:sendHeaders');

test('runs once every request made so far has been sent and nothing new came in the next turn; never again', async () => {
  let warmed = 0;
  whileRequestsInFlight(() => {
    warmed++;
  });

  REQUEST_CREATED.publish(undefined);
  REQUEST_CREATED.publish(undefined);
  REQUEST_SENT.publish(undefined);
  await nextTurn();
  expect(warmed).toBe(0);

  // The last one is sent, but another request is made in the same turn: still not idle.
  REQUEST_SENT.publish(undefined);
  REQUEST_CREATED.publish(undefined);
  await nextTurn();
  expect(warmed).toBe(0);

  REQUEST_SENT.publish(undefined);
  await nextTurn();
  expect(warmed).toBe(1);

  REQUEST_CREATED.publish(undefined);
  REQUEST_SENT.publish(undefined);
  await nextTurn();
  expect(warmed).toBe(1);
  expect(REQUEST_CREATED.hasSubscribers || REQUEST_SENT.hasSubscribers).toBe(false);
});
