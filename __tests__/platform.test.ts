import { describe, expect, test } from 'vitest';
import {
  comparePlatforms,
  InvalidPlatformError,
  type Platform,
  parsePlatform,
  platformFrom,
  platformKey,
  platformMatches,
  quote,
} from '../src/platform.js';

function invalid(value: unknown): InvalidPlatformError {
  try {
    platformFrom(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPlatformError);
    return error as InvalidPlatformError;
  }
  throw new Error(`expected an InvalidPlatformError for ${JSON.stringify(value)}`);
}

const LINUX = { os: 'linux', architecture: 'amd64' };
/** What no message may hold raw. */
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

describe('platformFrom', () => {
  test.each<[string, unknown, Platform]>([
    ['plain', LINUX, LINUX],
    [
      'variant',
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ],
    [
      'Windows fields',
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2113', 'os.features': ['win32k'] },
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2113', 'os.features': ['win32k'] },
    ],
    ['every allowed character', { ...LINUX, variant: 'Az09._+-' }, { ...LINUX, variant: 'Az09._+-' }],
    ['128 characters', { ...LINUX, variant: 'v'.repeat(128) }, { ...LINUX, variant: 'v'.repeat(128) }],
    ['other fields left out', { ...LINUX, extra: 'x\n::y', features: ['\n'] }, LINUX],
    [
      'empty or non-string optional fields left out',
      { ...LINUX, variant: '', 'os.version': 7, 'os.features': [] },
      LINUX,
    ],
    ['features with a non-string left out', { ...LINUX, 'os.features': ['sse4', 1] }, LINUX],
  ])('%s', (_name, value, expected) => {
    expect(platformFrom(value)).toEqual(expected);
  });

  test.each<[string, unknown]>([
    ['null', null],
    ['a string', 'linux/amd64'],
    ['no os', { architecture: 'amd64' }],
    ['no architecture', { os: 'linux' }],
    ['empty os', { os: '', architecture: 'amd64' }],
    ['numeric architecture', { os: 'linux', architecture: 64 }],
    ['os an object', { os: { toString: () => 'linux' }, architecture: 'amd64' }],
  ])('%s is undefined', (_name, value) => {
    expect(platformFrom(value)).toBeUndefined();
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['os', { os: 'linux\n::error::x', architecture: 'amd64' }, 'os'],
    ['architecture', { os: 'linux', architecture: 'amd 64' }, 'architecture'],
    ['variant', { ...LINUX, variant: 'v7\r' }, 'variant'],
    ['os.version', { ...LINUX, 'os.version': '10.0:1' }, 'os.version'],
    ['a feature', { ...LINUX, 'os.features': ['win32k', 'x\u0000'] }, 'os.features'],
    ['an empty feature', { ...LINUX, 'os.features': [''] }, 'os.features'],
    ['129 characters', { ...LINUX, variant: 'v'.repeat(129) }, 'variant'],
    ['a Unicode line separator', { ...LINUX, variant: 'v7\u2028x' }, 'variant'],
    ['a non-ASCII letter', { ...LINUX, variant: 'vé' }, 'variant'],
  ])('refuses a bad %s', (_name, value, field) => {
    const error = invalid(value);
    expect(error.field).toBe(field);
    expect(error.name).toBe('InvalidPlatformError');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(new RegExp(`^platform field "${field}" is ".*, not a short token`));
  });

  test('the message shows the value escaped', () => {
    expect(invalid({ ...LINUX, variant: 'v7\n::warning::x' }).message).toBe(
      'platform field "variant" is "v7\\n::warning::x", not a short token (letters, digits, ".", "_", "+", "-")',
    );
  });

  test.each([
    ['\u001b[31m', '"\\u001b[31m"'],
    ['a\u2028b', '"a\\u2028b"'],
    ['a\u0085b', '"a\\u0085b"'],
    ['a\u202eb', '"a\\u202eb"'],
    ['say "hi"\\', '"say \\"hi\\"\\\\"'],
    ['é😀', '"é😀"'],
  ])('shows %j escaped', (variant, shown) => {
    const message = invalid({ ...LINUX, variant }).message;
    expect(message).toContain(`is ${shown}, not`);
    expect(message).not.toMatch(UNSAFE);
  });

  test('a long value is cut', () => {
    const message = invalid({ ...LINUX, variant: `${'x'.repeat(1000)}\n` }).message;
    const shown = /is (".*), not/.exec(message)?.[1] ?? '';
    expect(shown).toBe(`"${'x'.repeat(80)}"…`);
  });

  test('an escape is not split by the cut', () => {
    const message = invalid({ ...LINUX, variant: `${'x'.repeat(78)}\u0001` }).message;
    expect(message).toContain(`is "${'x'.repeat(78)}"…, not`);
  });
});

describe('quote', () => {
  test.each([
    ['linux/amd64', '"linux/amd64"'],
    ['', '""'],
    ['a\nb\r\tc', '"a\\nb\\r\\tc"'],
    ['\u0000\u007f\u009b', '"\\u0000\\u007f\\u009b"'],
    ['a\u2029b\ufeff', '"a\\u2029b\\ufeff"'],
    ['\u{e0001}', '"\\udb40\\udc01"'],
    ['pässwörd', '"pässwörd"'],
  ])('%j is %s', (value, quoted) => {
    expect(quote(value)).toBe(quoted);
    expect(quote(value)).not.toMatch(UNSAFE);
  });

  test.each([
    ['abc', 3, '"abc"'],
    ['abcd', 3, '"abc"…'],
    ['ab\n', 3, '"ab"…'],
    ['ab\n', 4, '"ab\\n"'],
  ])('%j cut at %d is %s', (value, max, quoted) => {
    expect(quote(value, max)).toBe(quoted);
  });
});

describe('platformKey', () => {
  test.each<[Platform, string]>([
    [{ os: 'linux', architecture: 'arm' }, 'linux/arm/v7'],
    [{ os: 'linux', architecture: 'arm', variant: 'v7' }, 'linux/arm/v7'],
    [{ os: 'linux', architecture: 'arm', variant: 'v6' }, 'linux/arm/v6'],
    [{ os: 'linux', architecture: 'arm64' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: 'v9' }, 'linux/arm64/v9'],
    [{ os: 'linux', architecture: 'amd64' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'amd64', variant: 'v1' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'amd64', variant: 'v3' }, 'linux/amd64/v3'],
    [{ os: 'linux', architecture: 'riscv64' }, 'linux/riscv64'],
    [{ os: 'linux', architecture: 'constructor' }, 'linux/constructor'],
    [
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2113' },
      'windows/amd64:10.0.20348.2113',
    ],
    [{ os: 'windows', architecture: 'arm', 'os.version': '10.0.1' }, 'windows/arm/v7:10.0.1'],
  ])('%j is %s', (platform, key) => {
    expect(platformKey(platform)).toBe(key);
  });
});

describe('platformMatches', () => {
  test.each<[string, string, boolean]>([
    ['linux/arm', 'linux/arm/v7', true],
    ['linux/arm', 'linux/arm/v6', false],
    ['linux/arm/v6', 'linux/arm/v7', false],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64', 'linux/arm64/v9', false],
    ['linux/amd64', 'linux/amd64/v1', true],
    ['linux/amd64', 'linux/amd64/v2', false],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/amd64', 'windows/amd64', false],
    ['linux/riscv64', 'linux/riscv64', true],
    ['linux/riscv64', 'linux/riscv64/v1', false],
  ])('%s and %s: %s, both ways', (a, b, expected) => {
    const [x, y] = [parsePlatform(a, 'a'), parsePlatform(b, 'b')];
    expect(platformMatches(x, y)).toBe(expected);
    expect(platformMatches(y, x)).toBe(expected);
  });

  test.each<[string, string, boolean]>([
    ['windows/amd64:10.0.1', 'windows/amd64:10.0.1', true],
    ['windows/amd64', 'windows/amd64:10.0.1', true],
    ['windows/amd64:10.0.1', 'windows/amd64', false],
    ['windows/amd64:10.0.1', 'windows/amd64:10.0.2', false],
    ['windows/arm:10.0.1', 'windows/arm/v7:10.0.1', true],
  ])('os.version: %s expected, %s actual: %s', (expected, actual, matches) => {
    expect(platformMatches(parsePlatform(expected, 'e'), parsePlatform(actual, 'a'))).toBe(matches);
  });

  test('matches a platform read from a registry', () => {
    const image = platformFrom({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(image && platformMatches(parsePlatform('linux/arm', 'platforms'), image)).toBe(true);
  });
});

test('comparePlatforms orders by the raw fields, aliases apart', () => {
  const platforms: Platform[] = [
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: 'arm' },
    { os: 'linux', architecture: 'arm64' },
    { os: 'linux', architecture: 'arm', variant: 'v6' },
  ];
  expect([...platforms].sort(comparePlatforms)).toEqual([
    { os: 'linux', architecture: 'arm' },
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    { os: 'linux', architecture: 'arm64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
  ]);
});

describe('parsePlatform', () => {
  test.each([
    ['linux/arm', { os: 'linux', architecture: 'arm' }],
    [
      ' windows/amd64:10.0.20348.2113 ',
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2113' },
    ],
  ])('%j', (text, platform) => {
    expect(parsePlatform(text, 'platforms')).toEqual(platform);
  });

  test.each([
    'windows/amd64:10.0\u001b[31m',
    'windows/amd64:10.0\t1',
    'windows/amd64:1\u2028::x',
    'windows/amd64:1\u0085',
  ])('refuses a control character in os.version: %j', (text) => {
    expect(() => parsePlatform(text, 'platforms')).toThrow(
      /^platforms: ".*" has a control character in its os\.version: write it on one line/,
    );
    // The message quotes the text escaped, so it holds no control character itself.
    expect(() => parsePlatform(text, 'platforms')).not.toThrow(UNSAFE);
  });

  test.each(['linux', 'linux/amd64/v1/x', 'Linux/amd64', 'linux/amd64:', 'linux/am\u0007d64'])(
    'refuses %j as before',
    (text) => {
      expect(() => parsePlatform(text, 'platforms')).toThrow(/^platforms: ".*" is not a platform: write/);
    },
  );
});
