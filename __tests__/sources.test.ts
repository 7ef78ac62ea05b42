import { describe, expect, test } from 'vitest';
import { platformKey } from '../src/platform.js';
import { canonicalName } from '../src/registry/reference.js';
import { A, B, BASE, C, digestDir, digestOf, failure, IMAGE, parse, shape } from './helpers/inputs.js';

/** The grammar of `sources` and `sources-dir` (src/sources.ts), through the input parser as the action uses it. */

describe('sources forms', () => {
  const expected = [
    { repository: 'ghcr.io/org/app', digest: `sha256:${A}`, platform: 'linux/amd64' },
    { repository: 'ghcr.io/org/app', digest: `sha256:${B}`, platform: 'linux/arm64' },
  ];

  test.each([
    ['lines', `linux/amd64=sha256:${A}\nlinux/arm64=sha256:${B}`],
    ['CRLF lines with blanks', `\r\n  linux/amd64=sha256:${A}  \r\n\r\nlinux/arm64=sha256:${B}\r\n`],
    ['commas', `linux/amd64=sha256:${A},linux/arm64=sha256:${B}`],
    ['commas and lines', `linux/amd64=sha256:${A},\n,linux/arm64=sha256:${B},`],
    ['JSON array', JSON.stringify([`linux/amd64=sha256:${A}`, `linux/arm64=sha256:${B}`])],
    ['JSON array, pretty', JSON.stringify([`linux/amd64=sha256:${A}`, ` linux/arm64=sha256:${B}`], null, 2)],
    ['JSON object', JSON.stringify({ 'linux/amd64': `sha256:${A}`, 'linux/arm64': `sha256:${B}` })],
    [
      'JSON object with references',
      JSON.stringify({ 'linux/amd64': `${IMAGE}@sha256:${A}`, ' linux/arm64 ': `${IMAGE}:v1@sha256:${B}` }),
    ],
    ['bare hex', `linux/amd64=${A}\nlinux/arm64 = ${B}`],
    [
      'references to the image',
      `linux/amd64=${IMAGE}@sha256:${A}\nlinux/arm64=GHCR.IO/org/app:x@sha256:${B}`,
    ],
    [
      'duplicates collapsed',
      `linux/amd64=sha256:${A}\nsha256:${A}\n${IMAGE}@sha256:${A}\nlinux/arm64=sha256:${B}\n${B}\nlinux/arm64/v8=${B}`,
    ],
    ['assertion on a later duplicate', `sha256:${A}\nlinux/amd64=sha256:${A}\nlinux/arm64=sha256:${B}`],
  ])('%s', (_name, sources) => {
    expect(shape(parse({ ...BASE, sources }).sources)).toEqual(expected);
  });

  const unasserted = [
    { repository: 'ghcr.io/org/app', digest: `sha256:${A}`, platform: undefined },
    { repository: 'ghcr.io/org/app', digest: `sha256:${B}`, platform: undefined },
  ];

  test.each([
    ['lines', { sources: `sha256:${A}\nsha256:${B}` }],
    ['sources-dir', { sources: '', 'sources-dir': digestDir([B, A, '.keep']) }],
    ['sources-dir with trailing slash', { sources: '', 'sources-dir': `${digestDir([A, B])}/` }],
    ['sources and sources-dir overlapping', { sources: `sha256:${A}`, 'sources-dir': digestDir([A, B]) }],
  ])('%s', (_name, values) => {
    expect(shape(parse({ ...BASE, ...values }).sources)).toEqual(unasserted);
  });

  test('sources-dir entries name their file, and an assertion in sources carries over', () => {
    const dir = digestDir([A, B]);
    const inputs = parse({ ...BASE, sources: `linux/amd64=sha256:${A}`, 'sources-dir': dir });
    expect(shape(inputs.sources)).toEqual([
      { repository: 'ghcr.io/org/app', digest: `sha256:${A}`, platform: 'linux/amd64' },
      { repository: 'ghcr.io/org/app', digest: `sha256:${B}`, platform: undefined },
    ]);
    expect(inputs.sources.map((s) => s.text)).toEqual([`linux/amd64=sha256:${A}`, `${dir}/${B}`]);
  });

  test('entry text is the entry as written, trimmed', () => {
    const inputs = parse({
      ...BASE,
      sources: `  linux/amd64=sha256:${A} \n docker.io/library/base@sha256:${B}`,
    });
    expect(inputs.sources.map((s) => s.text)).toEqual([
      `linux/amd64=sha256:${A}`,
      `docker.io/library/base@sha256:${B}`,
    ]);
    const object = parse({ ...BASE, sources: JSON.stringify({ 'linux/arm/v7': `sha256:${C}` }) });
    expect(object.sources.map((s) => s.text)).toEqual([`linux/arm/v7=sha256:${C}`]);
  });

  test.each([
    [`docker.io/library/base@sha256:${A}`, 'docker.io/library/base', 'registry-1.docker.io'],
    [`base@sha256:${A}`, 'docker.io/library/base', 'registry-1.docker.io'],
    [`localhost:5000/x/y:tag@sha256:${A}`, 'localhost:5000/x/y', 'localhost:5000'],
    [`linux/s390x=quay.io/org/other@sha256:${A}`, 'quay.io/org/other', 'quay.io'],
  ])('cross-repository reference %s', (sources, repository, endpoint) => {
    const [entry, ...rest] = parse({ ...BASE, sources }).sources;
    expect(rest).toEqual([]);
    expect(canonicalName(entry?.repository ?? { registry: '', path: '', endpoint: '', display: '' })).toBe(
      repository,
    );
    expect(entry?.repository.endpoint).toBe(endpoint);
    expect(digestOf(entry)).toBe(`sha256:${A}`);
  });

  test.each([
    [':testing', 'ghcr.io/org/app', 'testing', undefined],
    ['ghcr.io/org/app:testing', 'ghcr.io/org/app', 'testing', undefined],
    ['linux/arm64=quay.io/org/other:v1.2', 'quay.io/org/other', 'v1.2', 'linux/arm64'],
    ['localhost:5000/x:sha-abc', 'localhost:5000/x', 'sha-abc', undefined],
  ])(
    'a source by tag, %s, is kept to be pinned when the run starts',
    (sources, repository, tag, platform) => {
      expect(shape(parse({ ...BASE, sources }).sources)).toEqual([{ repository, tag, platform }]);
    },
  );

  test('the same tag twice is one entry; a tag beside a digest is two until pinned', () => {
    const inputs = parse({ ...BASE, sources: `:testing\n${IMAGE}:testing\nsha256:${A}` });
    expect(shape(inputs.sources)).toEqual([
      { repository: 'ghcr.io/org/app', digest: `sha256:${A}`, platform: undefined },
      { repository: 'ghcr.io/org/app', tag: 'testing', platform: undefined },
    ]);
  });

  test('the same digest in two repositories is two entries', () => {
    const inputs = parse({ ...BASE, sources: `sha256:${A}\nquay.io/org/other@sha256:${A}` });
    expect(shape(inputs.sources).map((s) => s.repository)).toEqual(['ghcr.io/org/app', 'quay.io/org/other']);
  });

  test.each([
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    [
      'windows/amd64:10.0.20348.2113',
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2113' },
    ],
  ])('platform prefix %s', (prefix, platform) => {
    const [entry] = parse({ ...BASE, sources: `${prefix}=sha256:${A}` }).sources;
    expect(entry?.platform).toEqual(platform);
  });

  test('equivalent assertions agree, and the one with os.version wins', () => {
    const arm = parse({ ...BASE, sources: `linux/arm64=sha256:${A}\nlinux/arm64/v8=sha256:${A}` });
    expect(arm.sources.map((s) => s.platform)).toEqual([{ os: 'linux', architecture: 'arm64' }]);
    const win = parse({ ...BASE, sources: `windows/amd64=sha256:${A}\nwindows/amd64:10.0.1=sha256:${A}` });
    expect(win.sources.map((s) => s.platform)).toEqual([
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.1' },
    ]);
  });

  test.each([
    [`linux/arm=sha256:${A}\nlinux/arm/v7=sha256:${A}`, 'linux/arm/v7'],
    [`linux/amd64/v1=sha256:${A}\n${IMAGE}@sha256:${A}\nlinux/amd64=sha256:${A}`, 'linux/amd64'],
  ])('aliases agree: %j', (sources, key) => {
    expect(shape(parse({ ...BASE, sources }).sources)).toEqual([
      { repository: 'ghcr.io/org/app', digest: `sha256:${A}`, platform: key },
    ]);
  });

  test('sha512 digests are accepted', () => {
    const digest = `sha512:${'d'.repeat(128)}`;
    expect(parse({ ...BASE, sources: digest }).sources.map(digestOf)).toEqual([digest]);
  });
});

describe('many sources', () => {
  const COUNT = 10_000;
  const hex = (i: number) => i.toString(16).padStart(64, '0');

  test('10,000 distinct sources with duplicates keep one entry each, in first-seen order', () => {
    const distinct = Array.from({ length: COUNT }, (_, i) => `sha256:${hex(i)}`);
    // Every 7th again, in reverse order, once as a reference and once asserting a platform.
    const again = distinct.filter((_, i) => i % 7 === 0).reverse();
    const lines = [
      ...distinct,
      ...again.map((d) => `${IMAGE}@${d}`),
      ...again.map((d) => `linux/amd64=${d}`),
      `quay.io/org/other@sha256:${hex(3)}`,
    ];
    const sources = parse({ ...BASE, sources: lines.join('\n') }).sources;
    expect(sources).toHaveLength(COUNT + 1);
    expect(sources.map(digestOf)).toEqual([...distinct, `sha256:${hex(3)}`]);
    expect(sources.slice(0, 15).map((s) => s.platform && platformKey(s.platform))).toEqual(
      Array.from({ length: 15 }, (_, i) => (i % 7 === 0 ? 'linux/amd64' : undefined)),
    );
    expect(sources.filter((s) => s.platform).length).toBe(again.length);
    expect(sources.at(-1)?.repository.registry).toBe('quay.io');
    // The text stays the first entry's, as written.
    expect(sources[7]?.text).toBe(`sha256:${hex(7)}`);
  });

  test('a conflict among 10,000 sources names both entries', () => {
    const lines = Array.from({ length: COUNT }, (_, i) => `sha256:${hex(i)}`);
    lines[5] = `linux/arm64=sha256:${hex(5)}`;
    lines.push(`quay.io/org/other@sha256:${hex(5)}`, `linux/arm/v6=quay.io/org/other@sha256:${hex(5)}`);
    const error = failure({ ...BASE, sources: lines.join('\n') });
    expect(error.message).toBe(
      `input "sources": "linux/arm64=sha256:${hex(5)}" and "linux/arm/v6=quay.io/org/other@sha256:${hex(5)}" ` +
        `assert different platforms (linux/arm64, linux/arm/v6) for sha256:${hex(5)}: keep the right one`,
    );
  });
});

describe('JSON object keys', () => {
  const twice = (key: string) =>
    `input "sources": key "${key}" appears twice in the JSON object: keep one entry per platform`;

  test.each([
    ['the same key', `{"linux/amd64": "sha256:${A}", "linux/amd64": "sha256:${B}"}`, 'linux/amd64'],
    [
      'the same key and digest',
      `{"linux/amd64": "sha256:${A}", "linux/amd64": "sha256:${A}"}`,
      'linux/amd64',
    ],
    ['an escaped slash', `{"linux/amd64": "sha256:${A}", "linux\\/amd64": "sha256:${B}"}`, 'linux/amd64'],
    ['a unicode escape', `{"\\u006cinux/arm64": "sha256:${A}", "linux/arm64": "sha256:${B}"}`, 'linux/arm64'],
    [
      'pretty, third key',
      JSON.stringify({ 'linux/amd64': `sha256:${A}`, 'linux/arm64': `sha256:${B}` }, null, 2).replace(
        /\n}$/,
        `,\n  "linux/arm64": "sha256:${C}"\n}`,
      ),
      'linux/arm64',
    ],
  ])('are refused when repeated: %s', (_name, sources, key) => {
    expect(failure({ ...BASE, sources }).message).toBe(twice(key));
  });

  test('a repeated key is shown escaped', () => {
    const sources = `{"a\\u001bb": "x", "a\\u001bb": "y"}`;
    expect(failure({ ...BASE, sources }).message).toBe(twice('a\\u001bb'));
  });

  test.each<[string, string, RegExp]>([
    [
      'a key holding quotes, a comma and a key',
      `{"linux/amd64\\", \\"linux/amd64": "sha256:${A}", "linux/amd64": "sha256:${B}"}`,
      /"linux\/amd64\\", \\"linux\/amd64" is not a platform/,
    ],
    [
      'a value equal to a key',
      `{"linux/amd64": "sha256:${A}", "linux/arm64": "linux/amd64"}`,
      /entry "linux\/arm64=linux\/amd64" has no digest/,
    ],
    [
      'keys of a nested object',
      `{"linux/amd64": {"linux/amd64": 1, "linux/amd64": 2}}`,
      /JSON object value for "linux\/amd64" is \{"linux\/amd64":2\}/,
    ],
    [
      'a nested array of objects',
      `{"linux/amd64": [{"k": 1}, {"k": 2}], "k": "v"}`,
      /JSON object value for "linux\/amd64" is \[/,
    ],
    [
      'keys that differ only by case',
      `{"linux/AMD64": "sha256:${A}", "linux/amd64": "sha256:${B}"}`,
      /"linux\/AMD64" is not a platform/,
    ],
  ])('are not confused by %s', (_name, sources, message) => {
    const error = failure({ ...BASE, sources });
    expect(error.message).not.toMatch(/appears twice/);
    expect(error.message).toMatch(message);
  });

  test('distinct keys with braces and escapes in values parse', () => {
    const sources = `{"linux/amd64": "sha256:${A}", "linux/arm64": "${IMAGE}@sha256:${B}"}`;
    expect(shape(parse({ ...BASE, sources }).sources).map((s) => s.platform)).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
  });
});
