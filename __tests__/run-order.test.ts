import { afterEach, expect, test } from 'vitest';
import { run } from '../src/run.js';
import { inputsFrom } from './helpers/inputs.js';
import { entry, type Logged, scriptedWorld } from './helpers/scripted-registry.js';

/**
 * Guarantee 3 across a whole run (src/run.ts): the tags are read only once everything else is in place (every
 * image's copies, the attestations stored as referrers), so nothing long sits between reading a tag and writing it.
 */

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const isTagRead = (r: Logged) => r.method === 'HEAD' && r.path.endsWith('/manifests/v1');

test.each([
  ['keep', 'the other image gets the sources'],
  ['referrers', 'the attestations are stored as referrers'],
])('attestations: %s, two images: the tags are read only after %s', async (attestations) => {
  const w = scriptedWorld(['reg.test']);
  closers.push(w.close);
  const amd64 = w.registry.pushImage('org/app', { platform: 'linux/amd64' });
  const attestation = w.registry.pushAttestation('org/app', amd64);
  const index = w.registry.pushIndex('org/app', [entry(amd64, 'linux/amd64'), attestation]);

  const result = await run(
    inputsFrom({
      image: 'reg.test/org/app\nreg.test/org/copy',
      tags: 'v1',
      sources: index.digest,
      attestations,
    }),
    { client: w.client, log: w.context.log, clock: w.clock },
  );

  const firstRead = w.registry.log.findIndex(isTagRead);
  expect(firstRead).toBeGreaterThan(-1);
  // Every manifest stored by digest but the index itself (stored in every image beside the read): copies and
  // referrers alike come before the first tag read.
  const stores = w.registry.log.flatMap((r, i) =>
    r.method === 'PUT' && /\/manifests\/sha256:/.test(r.path) && !r.path.endsWith(result.digest) ? [i] : [],
  );
  expect(stores.length).toBeGreaterThan(0);
  expect(stores.filter((i) => i > firstRead)).toEqual([]);
  expect(w.registry.tagged('org/copy', 'v1')).toBe(result.digest);
});
