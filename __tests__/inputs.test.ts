import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { INPUT, InputError } from '../src/input-names.js';
import { DEFAULTS, parseDuration, parseInputs } from '../src/inputs.js';
import { platformKey } from '../src/platform.js';
import { A, BASE, digestDir, failure, fake, IMAGE, parse, type Values } from './helpers/inputs.js';

const PASSWORD = 'pa$$ w0rd!secret';
const TOKEN = 'ghp_T0KEN/with:odd=chars';

describe('tags', () => {
  test.each([
    ['latest', IMAGE, ['latest']],
    ['latest, 1.2.3\n\n1.2,latest\n1.2.3', IMAGE, ['latest', '1.2.3', '1.2']],
    [`${IMAGE}:1.2.3\n${IMAGE}:latest`, IMAGE, ['1.2.3', 'latest']],
    [`${IMAGE}:1.2.3\n1.2.3\nGHCR.io/org/app:edge`, IMAGE, ['1.2.3', 'edge']],
    ['docker.io/library/app:1\napp:2\nindex.docker.io/library/app:3', 'app', ['1', '2', '3']],
    ['localhost:5000/app:v1', 'localhost:5000/app', ['v1']],
    ['V1_x.y-z', IMAGE, ['V1_x.y-z']],
  ])('%j for %s', (tags, image, expected) => {
    expect(parse({ ...BASE, image, tags }).targets.map((t) => t.tags)).toEqual([expected]);
  });
});

describe('platforms', () => {
  test('parsed, deduplicated, order kept', () => {
    const inputs = parse({
      ...BASE,
      platforms: 'linux/amd64, linux/arm64\nlinux/arm/v7,linux/amd64,linux/arm64/v8',
    });
    expect(inputs.platforms?.map(platformKey)).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
  });

  test('unset is undefined', () => {
    expect(parse({ ...BASE, platforms: '  ' }).platforms).toBeUndefined();
  });

  test.each([
    ['linux/arm,linux/arm/v7', ['linux/arm/v7']],
    ['linux/arm/v7\nlinux/arm', ['linux/arm/v7']],
    ['linux/arm,linux/arm/v6', ['linux/arm/v7', 'linux/arm/v6']],
    ['linux/amd64/v1,linux/amd64,linux/amd64/v2', ['linux/amd64', 'linux/amd64/v2']],
  ])('aliases %j are one platform', (platforms, keys) => {
    expect(parse({ ...BASE, platforms }).platforms?.map(platformKey)).toEqual(keys);
  });

  test('the first spelling is kept', () => {
    expect(parse({ ...BASE, platforms: 'linux/arm,linux/arm/v7' }).platforms).toEqual([
      { os: 'linux', architecture: 'arm' },
    ]);
  });
});

describe('annotations', () => {
  test('metadata-action lines: index: prefix stripped, manifest-descriptor: kept per platform, the rest set aside', () => {
    const inputs = parse({
      ...BASE,
      annotations: [
        'index:org.opencontainers.image.source=https://github.com/org/app',
        'manifest:foo=bar',
        'org.opencontainers.image.licenses = MIT',
        '',
        'index-descriptor:x=y',
        'manifest-descriptor[linux/amd64]:z=1',
        'empty=',
        'url=https://x/?a=b',
        'org.opencontainers.image.licenses=MIT',
      ].join('\n'),
    });
    expect(inputs.annotations).toEqual({
      'org.opencontainers.image.source': 'https://github.com/org/app',
      'org.opencontainers.image.licenses': 'MIT',
      empty: '',
      url: 'https://x/?a=b',
    });
    expect(inputs.descriptorAnnotations).toEqual([
      { key: 'z', value: '1', platform: { os: 'linux', architecture: 'amd64' } },
    ]);
    expect(inputs.unplacedAnnotations).toEqual([
      { level: 'manifest', line: 'manifest:foo=bar' },
      { level: 'index-descriptor', line: 'index-descriptor:x=y' },
    ]);
  });

  test('manifest-descriptor: without a platform is for every entry; the same key per platform is a second line', () => {
    const inputs = parse({
      ...BASE,
      annotations: [
        'manifest-descriptor:org.opencontainers.image.title=app',
        'manifest-descriptor[linux/arm64]:org.opencontainers.image.title=app (arm)',
        'manifest-descriptor:org.opencontainers.image.title=app',
      ].join('\n'),
    });
    expect(inputs.annotations).toEqual({});
    expect(inputs.descriptorAnnotations).toEqual([
      { key: 'org.opencontainers.image.title', value: 'app' },
      {
        key: 'org.opencontainers.image.title',
        value: 'app (arm)',
        platform: { os: 'linux', architecture: 'arm64' },
      },
    ]);
  });

  test.each([
    {
      lines: 'manifest-descriptor:a=1\nmanifest-descriptor:a=2',
      message:
        'input "annotations": "manifest-descriptor:a" is given twice, as "1" and "2": keep one line per key',
    },
    {
      lines: 'manifest-descriptor[linux/arm64]:a=1\nmanifest-descriptor[linux/arm64/v8]:a=2',
      message: '"manifest-descriptor[linux/arm64]:a" is given twice',
    },
    {
      lines: 'manifest-descriptor[linux]:a=1',
      message:
        'input "annotations": "manifest-descriptor[linux]:a=1": "linux" is not a platform: write ' +
        'manifest-descriptor[linux/amd64]:key=value, or leave out the brackets for every platform',
    },
    {
      lines: 'index[linux/amd64]:a=1',
      message:
        'the index has no platform; write index:key=value, or manifest-descriptor[linux/amd64]:key=value',
    },
    { lines: 'manifest-descriptor:=1', message: 'has an empty key' },
  ])('a wrong manifest-descriptor or index line is refused: $lines', ({ lines, message }) => {
    expect(() => parse({ ...BASE, annotations: lines })).toThrow(message);
  });
});

describe('annotation keys that are Object.prototype members', () => {
  const lines = ['constructor=c', 'toString=t', '__proto__=p', 'hasOwnProperty=h', 'valueOf=v'];

  test('are plain annotations', () => {
    const { annotations } = parse({ ...BASE, annotations: lines.join('\n') });
    expect(Object.keys(annotations)).toEqual([
      'constructor',
      'toString',
      '__proto__',
      'hasOwnProperty',
      'valueOf',
    ]);
    expect(JSON.stringify(annotations)).toBe(
      '{"constructor":"c","toString":"t","__proto__":"p","hasOwnProperty":"h","valueOf":"v"}',
    );
    expect(Object.hasOwn(annotations, '__proto__')).toBe(true);
    expect(Object.entries(annotations)).toContainEqual(['__proto__', 'p']);
    // The object itself is unharmed: its prototype was not replaced by "p".
    expect(Object.getPrototypeOf(annotations)).toBe(Object.prototype);
  });

  test.each(['constructor', 'toString', '__proto__'])('%s given twice the same is one annotation', (key) => {
    const { annotations } = parse({ ...BASE, annotations: `${key}=x\nindex:${key}=x` });
    expect(Object.entries(annotations)).toEqual([[key, 'x']]);
  });

  test.each(['constructor', '__proto__'])('%s given twice differently is refused', (key) => {
    expect(failure({ ...BASE, annotations: `${key}=1\n${key}=2` }).message).toBe(
      `input "annotations": "${key}" is given twice, as "1" and "2": keep one line per key`,
    );
  });

  test('unset annotations give an empty object', () => {
    expect(JSON.stringify(parse(BASE).annotations)).toBe('{}');
  });
});

describe('control characters', () => {
  test.each<[string, string, string]>([
    ['a tab in a value', 'a=x\ty', '"a" has a control character in its value ("x\\ty")'],
    ['a lone CR in a value', 'a=x\ry', '"a" has a control character in its value ("x\\ry")'],
    ['an escape in a key', 'a\u001b[31m=x', '"a\\u001b[31m" has a control character in its key ("x")'],
    ['a DEL in a key', 'index:a\u007fb=1', '"a\\u007fb" has a control character in its key ("1")'],
    [
      'a line separator in a value',
      'a=1\u2028::warning::x',
      '"a" has a control character in its value ("1\\u2028::warning::x")',
    ],
    ['a C1 control in a value', 'a=1\u0085', '"a" has a control character in its value ("1\\u0085")'],
  ])('annotations: %s is refused', (_name, annotations, detail) => {
    const error = failure({ ...BASE, annotations });
    expect(error.input).toBe('annotations');
    expect(error.message).toBe(
      `input "annotations": ${detail}: write each annotation as key=value on one line of printable text`,
    );
  });

  test.each([
    ['sources', `windows/amd64:10.0\u001b=sha256:${A}`, /"windows\/amd64:10\.0\\u001b" is not a platform/],
    [
      'sources',
      JSON.stringify({ 'windows/amd64:1\u2028x': `sha256:${A}` }),
      /"windows\/amd64:1\\u2028x" is not a platform/,
    ],
    [
      'platforms',
      'windows/amd64:10.0\t1',
      /^input "platforms": "windows\/amd64:10\.0\\t1" is not a platform/,
    ],
  ])('%s: os.version with a control character is refused, shown escaped', (input, value, message) => {
    const error = failure({ ...BASE, [input]: value });
    expect(error.input).toBe(input);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
  });
});

describe('defaults and scalar inputs', () => {
  test('only the required inputs', () => {
    const inputs = parse(BASE);
    expect(inputs).toMatchObject({
      attestations: 'keep',
      mediaType: 'auto',
      ifTagExists: 'overwrite',
      waitTimeoutMs: 120_000,
      dryRun: false,
      plainHttp: 'auto',
      platforms: undefined,
      username: undefined,
      password: undefined,
      githubToken: undefined,
      annotations: {},
      descriptorAnnotations: [],
      unplacedAnnotations: [],
    });
    expect(inputs.image).toMatchObject({ registry: 'ghcr.io', path: 'org/app', display: IMAGE });
  });

  test('every value given', () => {
    const inputs = parse({
      ...BASE,
      attestations: ' drop ',
      'media-type': 'docker',
      'if-tag-exists': 'skip',
      'wait-timeout': '5m',
      username: ' me ',
      password: PASSWORD,
      'github-token': TOKEN,
      'dry-run': 'TRUE',
      'plain-http': 'false',
    });
    expect(inputs).toMatchObject({
      attestations: 'drop',
      mediaType: 'docker',
      ifTagExists: 'skip',
      waitTimeoutMs: 300_000,
      username: 'me',
      password: PASSWORD,
      githubToken: TOKEN,
      dryRun: true,
      plainHttp: false,
    });
  });

  test('DEFAULTS and INPUT agree with action.yml', () => {
    const yml = readFileSync(new URL('../action.yml', import.meta.url), 'utf8');
    const inputsBlock = yml.slice(yml.indexOf('\ninputs:\n'), yml.indexOf('\noutputs:\n'));
    const names = [...inputsBlock.matchAll(/^ {2}([a-z-]+):$/gm)].map((m) => m[1]);
    expect(new Set(names)).toEqual(new Set(Object.values(INPUT)));
    for (const [name, value] of Object.entries(DEFAULTS)) {
      const block = inputsBlock.slice(inputsBlock.indexOf(`\n  ${name}:\n`) + 1);
      const next = block.slice(1).search(/\n {2}[a-z]/);
      const own = next < 0 ? block : block.slice(0, next + 1);
      expect(own, name).toMatch(new RegExp(`\\n {4}default: "?${value}"?(?:\\n|$)`));
    }
  });

  test.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    [' true ', true],
    ['', false],
  ])('dry-run %j', (text, expected) => {
    expect(parse({ ...BASE, 'dry-run': text }).dryRun).toBe(expected);
  });

  test.each([
    ['auto', 'auto'],
    ['', 'auto'],
    ['true', true],
    ['False', false],
  ])('plain-http %j', (text, expected) => {
    expect(parse({ ...BASE, 'plain-http': text }).plainHttp).toBe(expected);
  });

  test.each(['yes', '1', 'on', 'tRue', 'y'])('dry-run %j is refused', (text) => {
    const error = failure({ ...BASE, 'dry-run': text });
    expect(error.input).toBe('dry-run');
    expect(error.message).toBe(`input "dry-run": "${text}" is not a boolean: write true or false`);
  });
});

test.each(['keep', 'drop', 'referrers'] as const)('attestations: %s', (mode) => {
  expect(parse({ ...BASE, attestations: mode }).attestations).toBe(mode);
});

describe('parseDuration', () => {
  test.each([
    ['90s', 90_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['120', 120_000],
    ['1', 1000],
    ['1ms', 1],
    ['6h', 21_600_000],
    ['  45s ', 45_000],
    ['1m30s250ms', 90_250],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text, 'x')).toBe(ms);
  });

  test.each([
    '',
    '0',
    '0s',
    '0ms',
    '6h1s',
    '7h',
    '21601',
    '-1s',
    '1.5m',
    '1m30',
    '30 s',
    'm',
    'ms',
    '2M',
    'abc',
    '1s1m',
  ])('%j is refused', (text) => {
    expect(() => parseDuration(text, 'wait-timeout')).toThrow(InputError);
    expect(() => parseDuration(text, 'wait-timeout')).toThrow(/^input "wait-timeout": .*e\.g\. 90s, 2m/);
  });

  test('the input name given is the one reported', () => {
    const error = failure({ ...BASE, 'wait-timeout': 'soon' });
    expect(error.input).toBe('wait-timeout');
  });
});

describe('bad inputs', () => {
  test.each<[string, Values, string, RegExp]>([
    ['missing image', { image: '' }, 'image', /required.*e\.g\. ghcr\.io\/org\/app/],
    ['image with tag', { image: `${IMAGE}:1` }, 'image', /without tag or digest.*put tags in "tags"/],
    ['uppercase image', { image: 'ghcr.io/Org/app' }, 'image', /lowercase.*e\.g\. ghcr\.io\/org\/app/],
    ['missing tags', { tags: ' ' }, 'tags', /required.*e\.g\. latest/],
    ['only separators in tags', { tags: ', \n,' }, 'tags', /no tags.*e\.g\. latest/],
    ['invalid tag', { tags: 'latest\nv1+build' }, 'tags', /"v1\+build" is not a valid tag.*e\.g\. latest/],
    ['# is not a comment', { tags: 'latest\n# comment' }, 'tags', /"# comment" is not a valid tag/],
    [
      'tag for another image',
      { tags: 'ghcr.io/org/other:1.0' },
      'tags',
      /"ghcr\.io\/org\/other:1\.0" is a tag of ghcr\.io\/org\/other, not of image ghcr\.io\/org\/app: write the tag alone or ghcr\.io\/org\/app:1\.0, or add ghcr\.io\/org\/other to image$/,
    ],
    [
      'tag on Docker Hub for a ghcr image',
      { tags: 'app:1' },
      'tags',
      /docker\.io\/library\/app, not of image/,
    ],
    ['digest in a tag', { tags: `${IMAGE}:1@sha256:${A}` }, 'tags', /holds a digest.*e\.g\. latest/],
    [
      'repository without tag',
      { tags: IMAGE },
      'tags',
      /nor a full reference with ":<tag>": write ghcr\.io\/org\/app:<tag>/,
    ],
    ['invalid tag in a reference', { tags: `${IMAGE}:.x` }, 'tags', /invalid tag "\.x".*e\.g\. latest/],
    ['bad repository in a tag', { tags: 'ghcr.io/Org/app:1' }, 'tags', /lowercase/],
    ['missing sources', { sources: '' }, 'sources', /required unless "sources-dir" is set.*sha256:<64 hex>/],
    [
      'malformed digest',
      { sources: 'sha256:abc' },
      'sources',
      /entry "sha256:abc".*expected sha256:<64 hex>/,
    ],
    [
      'malformed digest in a reference',
      { sources: `linux/amd64=${IMAGE}@sha256:${A}0` },
      'sources',
      /entry "linux\/amd64=ghcr\.io\/org\/app@sha256:a+0".*expected sha256:<64 hex>/,
    ],
    [
      'uppercase digest',
      { sources: `sha256:${A.toUpperCase()}` },
      'sources',
      new RegExp(`must be lowercase: sha256:${A}$`),
    ],
    [
      'uppercase bare hex',
      { sources: A.toUpperCase() },
      'sources',
      new RegExp(`must be lowercase: sha256:${A}$`),
    ],
    [
      'uppercase algorithm',
      { sources: `${IMAGE}@SHA256:${A}` },
      'sources',
      new RegExp(`must be lowercase: sha256:${A}$`),
    ],
    [
      'reference with bare hex',
      { sources: `${IMAGE}@${A}` },
      'sources',
      new RegExp(`lacks its algorithm: write sha256:${A}$`),
    ],
    [
      'short bare hex',
      { sources: 'abc123' },
      'sources',
      /"abc123" is not a digest: expected sha256:<64 hex>/,
    ],
    [
      'a repository without digest or tag',
      { sources: `${IMAGE}` },
      'sources',
      /has no digest \(nor a tag\).*<repository>@sha256:<64 hex>, or <repository>:<tag>/,
    ],
    ['an invalid tag', { sources: `${IMAGE}:-bad` }, 'sources', /has an invalid tag "-bad"/],
    [
      'promote not a choice',
      { promote: 'yes' },
      'promote',
      /"yes" is not allowed: write auto, true or false/,
    ],
    [
      'referrers not a choice',
      { referrers: 'all' },
      'referrers',
      /"all" is not allowed: write one of copy, skip/,
    ],
    ['a word', { sources: 'amd64' }, 'sources', /"amd64" is not a digest: write sha256:<64 hex>/],
    [
      'bad platform prefix',
      { sources: `linux=sha256:${A}` },
      'sources',
      /"linux" is not a platform.*e\.g\. linux\/amd64=/,
    ],
    [
      'empty platform prefix',
      { sources: `=sha256:${A}` },
      'sources',
      /"" is not a platform.*e\.g\. linux\/amd64=/,
    ],
    [
      'bad repository in an entry',
      { sources: `ghcr.io/Org/app@sha256:${A}` },
      'sources',
      /entry "ghcr\.io\/Org\/app" has an invalid path component "Org".*lowercase.*e\.g\./,
    ],
    [
      'invalid tag in an entry',
      { sources: `${IMAGE}:-x@sha256:${A}` },
      'sources',
      /invalid tag "-x": up to 128 letters/,
    ],
    [
      'bad JSON array',
      { sources: `[sha256:${A}]` },
      'sources',
      /not valid JSON.*expected a JSON array of entry strings, e\.g\. \[/,
    ],
    [
      'bad JSON object',
      { sources: '{"linux/amd64": }' },
      'sources',
      /not valid JSON.*expected a JSON object of platform to digest, e\.g\. \{/,
    ],
    ['number in JSON array', { sources: '[1]' }, 'sources', /item 0 is 1.*e\.g\. \[/],
    ['empty item in JSON array', { sources: `["sha256:${A}", ""]` }, 'sources', /item 1 is "".*output empty/],
    ['empty JSON array', { sources: '[]' }, 'sources', /no entries.*write sha256:<64 hex>/],
    ['empty JSON object', { sources: '{}' }, 'sources', /no entries/],
    [
      'empty JSON object value',
      { sources: '{"linux/amd64": ""}' },
      'sources',
      /"linux\/amd64" is "".*e\.g\. \{/,
    ],
    [
      'prefix in a JSON object value',
      { sources: JSON.stringify({ 'linux/amd64': `linux/amd64=sha256:${A}` }) },
      'sources',
      /has a platform prefix; the key is the platform/,
    ],
    [
      'bad JSON object key',
      { sources: JSON.stringify({ linux: `sha256:${A}` }) },
      'sources',
      /"linux" is not a platform/,
    ],
    [
      'conflicting platform assertions',
      { sources: `linux/amd64=sha256:${A}\nlinux/arm64=sha256:${A}` },
      'sources',
      /linux\/amd64=sha256:a+" and "linux\/arm64=sha256:a+" assert different platforms \(linux\/amd64, linux\/arm64\)/,
    ],
    [
      'conflicting platform assertions across repositories',
      { sources: `linux/amd64=sha256:${A}\nlinux/arm/v6=quay.io/x/y@sha256:${A}` },
      'sources',
      /assert different platforms \(linux\/amd64, linux\/arm\/v6\).*keep the right one/,
    ],
    [
      'bad platforms',
      { platforms: 'linux/amd64,linux' },
      'platforms',
      /"linux" is not a platform.*e\.g\. linux\/amd64,linux\/arm64/,
    ],
    ['only separators in platforms', { platforms: ',' }, 'platforms', /no platforms.*e\.g\./],
    [
      'bad attestations',
      { attestations: 'Keep' },
      'attestations',
      /"Keep" is not allowed: write one of keep, drop, referrers$/,
    ],
    ['bad media-type', { 'media-type': 'oci2' }, 'media-type', /write one of auto, oci, docker$/],
    [
      'bad if-tag-exists',
      { 'if-tag-exists': 'replace' },
      'if-tag-exists',
      /write one of overwrite, fail, skip, forward$/,
    ],
    ['bad wait-timeout', { 'wait-timeout': '5 minutes' }, 'wait-timeout', /not a duration: e\.g\. 90s/],
    ['zero wait-timeout', { 'wait-timeout': '0s' }, 'wait-timeout', /more than 0 and at most 6h: e\.g\. 90s/],
    ['long wait-timeout', { 'wait-timeout': '7h' }, 'wait-timeout', /at most 6h/],
    ['bad dry-run', { 'dry-run': 'yes' }, 'dry-run', /write true or false$/],
    ['bad plain-http', { 'plain-http': 'AUTO' }, 'plain-http', /write auto, true or false$/],
    ['lone username', { username: 'me' }, 'password', /required when "username" is set.*e\.g\. password:/],
    [
      'lone password',
      { password: PASSWORD },
      'username',
      /required when "password" is set.*e\.g\. username:/,
    ],
    [
      'annotation without =',
      { annotations: 'a=b\nnovalue' },
      'annotations',
      /"novalue" is not key=value: e\.g\./,
    ],
    ['annotation with empty key', { annotations: '=x' }, 'annotations', /empty key: e\.g\./],
    ['annotation with empty key after prefix', { annotations: 'index:=x' }, 'annotations', /empty key/],
    [
      'conflicting annotations',
      { annotations: 'a=1\nindex:a=2' },
      'annotations',
      /"a" is given twice, as "1" and "2": keep one line per key$/,
    ],
  ])('%s', (_name, values, input, message) => {
    const error = failure({ ...BASE, ...values });
    expect(error.input).toBe(input);
    expect(error.message.startsWith(`input "${input}": `)).toBe(true);
    expect(error.message).toMatch(message);
  });

  test.each<[string, string[], RegExp]>([
    ['non-digest file', [A, 'notes.txt'], /file "notes\.txt" in ".*" is not a digest file.*touch/],
    ['uppercase file name', [A.toUpperCase()], /is not a digest file: its name must be 64 lowercase hex/],
    ['sha256: in the file name', [`sha256:${A}`], /is not a digest file/],
    [
      'empty folder',
      [],
      /no digest files in ".*"; each build job should `touch "\$DIR\/\$\{digest#sha256:\}"`/,
    ],
    ['only hidden files', ['.gitkeep', '.DS_Store'], /no digest files in/],
  ])('sources-dir: %s', (_name, files, message) => {
    const error = failure({ ...BASE, 'sources-dir': digestDir(files) });
    expect(error.input).toBe('sources-dir');
    expect(error.message).toMatch(/^input "sources-dir": /);
    expect(error.message).toMatch(message);
  });

  test('sources-dir that does not exist', () => {
    const missing = join(tmpdir(), 'inputs-test-does-not-exist', 'digests');
    const error = failure({ ...BASE, sources: '', 'sources-dir': missing });
    expect(error.input).toBe('sources-dir');
    expect(error.message).toContain(`cannot list folder "${missing}"`);
    expect(error.message).toMatch(/check the path/);
  });
});

describe('secrets', () => {
  test('are passed to secret() before any other input is read', () => {
    const { source, events, secrets } = fake({
      ...BASE,
      username: 'me',
      password: ` ${PASSWORD} `,
      'github-token': TOKEN,
    });
    const inputs = parseInputs(source);
    expect(secrets).toEqual([PASSWORD, TOKEN]);
    expect(inputs.password).toBe(PASSWORD);
    expect(inputs.githubToken).toBe(TOKEN);
    const firstOther = events.findIndex((e) => e.startsWith('read:') && !/password|github-token/.test(e));
    expect(events.lastIndexOf('secret')).toBeLessThan(firstOther);
  });

  test('are passed to secret() even when another input is wrong', () => {
    const { source, secrets } = fake({ image: '', password: PASSWORD, 'github-token': TOKEN });
    expect(() => parseInputs(source)).toThrow(InputError);
    expect(secrets).toEqual([PASSWORD, TOKEN]);
  });

  test('empty secrets are not passed', () => {
    const { source, secrets } = fake({ ...BASE, password: '  ', 'github-token': '' });
    parseInputs(source);
    expect(secrets).toEqual([]);
  });

  // A secret pasted into the wrong input would otherwise be echoed back by the error about that input.
  test.each<[string, Values]>([
    ['image', { image: PASSWORD }],
    ['tags', { tags: `latest\n${PASSWORD}` }],
    ['sources', { sources: TOKEN }],
    ['platforms', { platforms: TOKEN }],
    ['annotations', { annotations: PASSWORD }],
    ['attestations', { attestations: TOKEN }],
    ['wait-timeout', { 'wait-timeout': PASSWORD }],
    ['dry-run', { 'dry-run': TOKEN }],
    ['plain-http', { 'plain-http': `x${PASSWORD}x` }],
    ['sources-dir', { 'sources-dir': join(tmpdir(), PASSWORD) }],
  ])('never appear in an error about %s', (input, values) => {
    const error = failure({ ...BASE, username: 'me', password: PASSWORD, 'github-token': TOKEN, ...values });
    expect(error.input).toBe(input);
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).toContain('***');
    expect(error.message.startsWith(`input "${error.input}": `)).toBe(true);
  });

  test('never appear in a credentials error', () => {
    const error = failure({ ...BASE, password: PASSWORD, 'github-token': TOKEN });
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(TOKEN);
  });
});

test('INPUT lists every input name once', () => {
  expect(Object.values(INPUT).sort()).toEqual([
    'annotations',
    'attestations',
    'dry-run',
    'github-token',
    'if-tag-exists',
    'image',
    'media-type',
    'order-by',
    'password',
    'plain-http',
    'platforms',
    'promote',
    'referrers',
    'sources',
    'sources-dir',
    'tags',
    'username',
    'wait-timeout',
  ]);
});
