import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { expect, test } from 'vitest';
import { LOOKUP_TTL_MS, type Resolve, sharedLookup } from '../src/registry/shared-lookup.js';

/** Host names looked up once per burst of connections; answers shaped as Node's net asks for them. */

const ADDRESSES: LookupAddress[] = [
  { address: '2001:db8::1', family: 6 },
  { address: '192.0.2.1', family: 4 },
];

/** A resolver that answers on the next turn, counting the names it was asked, failing for `fail` names. */
function counting(fail: Set<string> = new Set()) {
  const asked: string[] = [];
  const resolve: Resolve = (hostname, callback) => {
    asked.push(hostname);
    setImmediate(() => {
      if (fail.has(hostname)) {
        callback(Object.assign(new Error(`getaddrinfo EAI_AGAIN ${hostname}`), { code: 'EAI_AGAIN' }), []);
      } else callback(null, ADDRESSES);
    });
  };
  return { asked, resolve };
}

function ask(lookup: LookupFunction, hostname: string, options: Parameters<LookupFunction>[1]) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family: unknown }>((done) =>
    lookup(hostname, options, (error, address, family) => done({ error, address, family })),
  );
}

test('a burst of connections to one host asks the resolver once, and each gets the shape it asked for', async () => {
  const { asked, resolve } = counting();
  const lookup = sharedLookup(resolve);

  const answers = await Promise.all([
    ...Array.from({ length: 30 }, () => ask(lookup, 'registry.example', { all: true })),
    ask(lookup, 'registry.example', { family: 4 }),
    ask(lookup, 'registry.example', { family: 'IPv6' }),
    ask(lookup, 'other.example', {}),
  ]);

  expect(asked).toEqual(['registry.example', 'other.example']);
  expect(answers[0]).toEqual({ error: null, address: ADDRESSES, family: undefined });
  expect(answers[30]).toEqual({ error: null, address: '192.0.2.1', family: 4 });
  expect(answers[31]).toEqual({ error: null, address: '2001:db8::1', family: 6 });
  expect(answers[32]).toEqual({ error: null, address: '2001:db8::1', family: 6 });
});

test('a failed lookup reaches every waiting connection and is not kept: the next connection asks again', async () => {
  const fail = new Set(['flaky.example']);
  const { asked, resolve } = counting(fail);
  const lookup = sharedLookup(resolve);

  const failed = await Promise.all([ask(lookup, 'flaky.example', {}), ask(lookup, 'flaky.example', {})]);
  fail.clear();
  const later = await ask(lookup, 'flaky.example', { all: true });

  expect(failed.map((answer) => answer.error?.code)).toEqual(['EAI_AGAIN', 'EAI_AGAIN']);
  expect(later.address).toEqual(ADDRESSES);
  expect(asked).toEqual(['flaky.example', 'flaky.example']);
});

test('addresses are asked for again once they are older than the TTL; a family with no address is ENOTFOUND', async () => {
  const { asked, resolve } = counting();
  let now = 1_000;
  const lookup = sharedLookup(resolve, () => now);

  await ask(lookup, 'registry.example', {});
  now += LOOKUP_TTL_MS;
  await ask(lookup, 'registry.example', {});
  now += 1;
  await ask(lookup, 'registry.example', {});

  expect(asked).toHaveLength(2);
  const v6only = sharedLookup((_, callback) =>
    setImmediate(() => callback(null, [{ address: '::1', family: 6 }])),
  );
  const missing = await ask(v6only, 'v6.example', { family: 4 });
  expect(missing.error?.code).toBe('ENOTFOUND');
});
