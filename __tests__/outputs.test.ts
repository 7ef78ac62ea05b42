import { expect, test } from 'vitest';
import { cell, outputsOf, summaryMarkdown } from '../src/outputs.js';
import { parseRepository } from '../src/registry/reference.js';
import type { ImageResult, Result } from '../src/result.js';

const D = `sha256:${'a'.repeat(64)}` as const;
const E = `sha256:${'e'.repeat(64)}` as const;
const result: Result = {
  digest: D,
  ref: `ghcr.io/org/app@${D}`,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  tags: ['ghcr.io/org/app:latest'],
  platformDigests: { 'linux/amd64': D },
  platformRefs: { 'linux/amd64': `ghcr.io/org/app@${D}` },
  manifest: '{"schemaVersion":2}',
  written: true,
  dryRun: false,
  images: [
    {
      image: parseRepository('ghcr.io/org/app'),
      tags: ['latest'],
      moved: ['latest'],
      unchanged: [],
      skipped: [],
      failed: [],
      ref: `ghcr.io/org/app@${D}`,
      tagRefs: ['ghcr.io/org/app:latest'],
      platformRefs: { 'linux/amd64': `ghcr.io/org/app@${D}` },
    },
  ],
  platforms: [{ platform: 'linux/amd64', digest: D, size: 2048, source: 'x|<script>`', attestations: 1 }],
  waitedMs: 1500,
  digests: [D, E],
  pinned: [],
  promoted: false,
  attestations: { mode: 'keep', count: 1 },
};

test('outputs are named as in action.yml and JSON where the contract says so', () => {
  expect(outputsOf(result)).toEqual({
    digest: D,
    ref: `ghcr.io/org/app@${D}`,
    tags: '["ghcr.io/org/app:latest"]',
    'platform-digests': `{"linux/amd64":"${D}"}`,
    'platform-refs': `{"linux/amd64":"ghcr.io/org/app@${D}"}`,
    manifest: '{"schemaVersion":2}',
    written: 'true',
    images: `{"ghcr.io/org/app":{"ref":"ghcr.io/org/app@${D}","tags":["ghcr.io/org/app:latest"],"platform-refs":{"linux/amd64":"ghcr.io/org/app@${D}"}}}`,
    digests: `["${D}","${E}"]`,
  });
});

test('the summary names each source pinned from a tag, and a promotion', () => {
  const pinned = { ...result, pinned: [{ tag: 'ghcr.io/org/app:test`ing', digest: E }], promoted: true };
  const markdown = summaryMarkdown(pinned);
  expect(markdown).toContain(
    `| Source <code>ghcr.io/org/app:test&#96;ing</code> | pinned to <code>${E}</code> |`,
  );
  expect(markdown).toContain('| Promoted | the source index as it is, byte for byte |');
  expect(summaryMarkdown(result)).not.toContain('Promoted');
});

test('summary escapes values that came from inputs or registries', () => {
  const markdown = summaryMarkdown(result);
  expect(markdown).toContain('x&#124;&lt;script&gt;&#96;');
  expect(markdown).not.toContain('<script>');
  expect(markdown).toContain('| Waited for the registry | 1.5 s |');
  expect(summaryMarkdown({ ...result, waitedMs: 0 })).toContain(
    '| Waited for the registry | no: every digest was served at once |',
  );
  expect(markdown).toContain('2.0 KiB');
  expect(cell('a\nb')).toBe('a b');
});

test.each([
  ['a link', '[click](https://evil.example)', '&#91;click&#93;&#40;https:\u2060//evil.example&#41;'],
  ['an image', '![x](http://t.example/p.png)', '&#33;&#91;x&#93;&#40;http:\u2060//t.example/p.png&#41;'],
  ['a bare URL', 'see https://evil.example/x', 'see https:\u2060//evil.example/x'],
  ['www.', 'at WWW.evil.example', 'at WWW\u2060.evil.example'],
  ['a mention', 'ask @org/team', 'ask @\u2060org/team'],
  ['an address', 'mail ops@evil.example', 'mail ops@\u2060evil.example'],
  ['an issue reference', 'fixes #12', 'fixes &#35;\u206012'],
  ['a pinned reference stays whole', 'ghcr.io/org/app@sha256:ab', 'ghcr.io/org/app@sha256:ab'],
  ['emphasis', '*bold* _it_ ~~del~~', '&#42;bold&#42; &#95;it&#95; &#126;&#126;del&#126;&#126;'],
  ['HTML', '<img src=x onerror="y">', '&lt;img src=x onerror=&quot;y&quot;&gt;'],
  ['a new row', 'a|b\n| c |', 'a&#124;b &#124; c &#124;'],
  ['a backslash escape', '\\*', '&#92;&#42;'],
])('a summary cell shows %s as text', (_name, input, expected) => {
  expect(cell(input)).toBe(expected);
});

test('a partial write shows which tags were not written and why, escaped', () => {
  const image = result.images[0] as ImageResult;
  const markdown = summaryMarkdown({
    ...result,
    images: [{ ...image, failed: [{ tag: 'b', reason: 'PUT …: 403 DENIED [see](http://x)' }] }],
  });
  expect(markdown).toContain('### Published only in part');
  expect(markdown).toContain(
    '| <code>b</code> | Not written: PUT …: 403 DENIED &#91;see&#93;&#40;http:\u2060//x&#41; |',
  );
});

test('a tag moved off another digest shows the digest it held, so the move can be undone', () => {
  const image = result.images[0] as ImageResult;
  const held = `sha256:${'b'.repeat(64)}` as const;
  const markdown = summaryMarkdown({ ...result, images: [{ ...image, replaced: { latest: held } }] });
  expect(markdown).toContain(`| <code>latest</code> | Written (held <code>${held}</code>) |`);
  const dryRun = summaryMarkdown({
    ...result,
    dryRun: true,
    written: false,
    images: [{ ...image, replaced: { latest: held } }],
  });
  expect(dryRun).toContain(`| <code>latest</code> | Would write (now at <code>${held}</code>) |`);
  // A new tag held nothing.
  expect(summaryMarkdown(result)).toContain('| <code>latest</code> | Written |');
});

test('the summary says where the attestations went', () => {
  const S = `sha256:${'b'.repeat(64)}` as const;
  const R = `sha256:${'c'.repeat(64)}` as const;
  expect(summaryMarkdown(result)).toContain(
    '| Attestations | 1 attestation in the index, each after the image it describes |',
  );
  const none = { ...result, attestations: { mode: 'referrers', count: 0 } } as const;
  expect(summaryMarkdown(none)).not.toMatch(/^\| Attestations \|/m);
  const referrers: Result = {
    ...result,
    attestations: { mode: 'referrers', count: 2 },
    images: [
      {
        ...(result.images[0] as ImageResult),
        referrers: [
          {
            descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: R, size: 1 },
            subject: S,
            via: 'tag',
          },
          {
            descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 1 },
            subject: S,
            via: 'tag',
          },
        ],
      },
      { ...(result.images[0] as ImageResult), image: parseRepository('docker.io/org/app'), referrers: [] },
    ],
  };
  expect(summaryMarkdown(referrers)).toContain(
    '| Attestations | 2 attestations stored as OCI referrers of their images, not in the index ' +
      `(<code>ghcr.io/org/app</code>: fallback tag <code>sha256-${'b'.repeat(64)}</code>; ` +
      '<code>docker.io/org/app</code>: the referrers API) |',
  );
  expect(summaryMarkdown({ ...referrers, dryRun: true })).toContain(
    '| Attestations | 2 attestations would be stored as OCI referrers of their images, not in the index |',
  );
});
