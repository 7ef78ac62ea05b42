import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import { helperRunner } from './credential-helper.js';
import { dockerConfigs } from './docker-config-files.js';
import { errorMessage } from './errors.js';
import { INPUT, InputError, listOf } from './input-names.js';
import { DEFAULTS, parseInputs } from './inputs.js';
import { consoleLogger, printableJson } from './log.js';
import { outputValues, partialCliOutputsOf } from './outputs.js';
import { PartialPublishError } from './result.js';
import { runWithClient } from './run-with-client.js';
import { nearest } from './suggest.js';

/** The version of this build, as package.json gives it (bundled into dist/cli/index.js). */
export const VERSION: string = packageJson.version;

/** One line of the help per flag: the flags, the argument, the text (continuation lines indented). */
const FLAG_HELP: Readonly<Record<string, readonly [flags: string, text: string]>> = {
  [INPUT.image]: [
    '--image REPO',
    'target repository, e.g. ghcr.io/org/app (required); several: the same index in each',
  ],
  [INPUT.tags]: ['--tag, --tags TAG', 'tag to write, or a full reference REPO:TAG (required)'],
  [INPUT.sources]: [
    '--source, --sources S',
    'sha256:<hex> (in --image), <repo>@sha256:<hex>, or <repo>:<tag> (:<tag> in --image,\n' +
      'pinned at the start), after an optional\n' +
      '<os>/<arch>[/<variant>]= that asserts the platform; or, as the only --source, a JSON\n' +
      'array of those, or an object {"linux/amd64": "sha256:..."}',
  ],
  [INPUT.sourcesDir]: [
    '--sources-dir DIR',
    'a folder of digest files, each named by its digest (64 hex characters)',
  ],
  [INPUT.platforms]: [
    '--platforms LIST',
    'expected platforms, e.g. linux/amd64,linux/arm64: exactly these, or no write;\n' +
      'without it, a tag holding more platforms than the index is not moved',
  ],
  [INPUT.attestations]: [
    '--attestations MODE',
    `keep | referrers (out of the index, as OCI referrers) | drop (default ${DEFAULTS[INPUT.attestations]})`,
  ],
  [INPUT.referrers]: [
    '--referrers MODE',
    `signatures and SBOMs of content from another repository: copy | skip\n(default ${DEFAULTS[INPUT.referrers]})`,
  ],
  [INPUT.promote]: [
    '--promote MODE',
    `publish one index source byte for byte: auto | true | false\n(default ${DEFAULTS[INPUT.promote]})`,
  ],
  [INPUT.annotations]: [
    '--annotations K=V',
    'an annotation on the index (K=V or index:K=V, as docker/metadata-action writes),\n' +
      'or on every platform entry (manifest-descriptor:K=V)',
  ],
  [INPUT.mediaType]: ['--media-type TYPE', `auto | oci | docker (default ${DEFAULTS[INPUT.mediaType]})`],
  [INPUT.ifTagExists]: [
    '--if-tag-exists MODE',
    `a tag at another digest: overwrite | fail | skip | forward (default ${DEFAULTS[INPUT.ifTagExists]})`,
  ],
  [INPUT.orderBy]: [
    '--order-by KEY',
    `with forward, what is newer: revision | version | created (default ${DEFAULTS[INPUT.orderBy]});\n` +
      'revision compares commits with the GitHub API: it needs $GITHUB_REPOSITORY,\n' +
      '$GITHUB_TOKEN (or --github-token), $GITHUB_API_URL on GitHub Enterprise Server, and\n' +
      'the revision: $GITHUB_SHA or --annotations org.opencontainers.image.revision=SHA',
  ],
  [INPUT.waitTimeout]: [
    '--wait-timeout TIME',
    `e.g. 90s, 2m, or seconds (default ${DEFAULTS[INPUT.waitTimeout]})`,
  ],
  [INPUT.username]: ['--username USER', 'registry user name, with --password-stdin'],
  [INPUT.password]: [
    '--password PASS',
    'avoid: other users see it in the process list, and the shell history keeps it;\n' +
      'use --password-stdin',
  ],
  [INPUT.githubToken]: [
    '--github-token TOKEN',
    'token for ghcr.io when nothing else gives credentials (default: $GITHUB_TOKEN,\n' +
      'which is safer than the flag for the same reason as --password)',
  ],
  [INPUT.dryRun]: ['--dry-run', 'resolve, wait and assemble; write nothing'],
  [INPUT.plainHttp]: [
    '--plain-http MODE',
    `auto | true | false (default ${DEFAULTS[INPUT.plainHttp]}: HTTP for localhost, 127.0.0.0/8 and [::1] only)`,
  ],
};

/** Flags that are not inputs. */
const OTHER_HELP: readonly (readonly [string, string])[] = [
  ['--password-stdin', 'read the registry password from standard input'],
  ['--debug', 'log every request'],
  ['-h, --help', 'show this help'],
  ['--version', 'print the version'],
];

function helpLines(entries: readonly (readonly [string, string])[]): string {
  return entries
    .map(([flags, text]) => {
      const [first, ...rest] = text.split('\n');
      return [`  ${flags.padEnd(24)}${first}`, ...rest.map((line) => `${' '.repeat(26)}${line}`)].join('\n');
    })
    .join('\n');
}

/** Every input as a flag, in the order of INPUT; an input without its own line still gets one. */
function usage(): string {
  const inputs = (Object.values(INPUT) as string[]).map(
    (name) => FLAG_HELP[name] ?? ([`--${name} VALUE`, `the action's "${name}" input`] as const),
  );
  // --password-stdin goes right after --username, the way to use it.
  const at = inputs.findIndex(([flags]) => flags.startsWith('--username'));
  const flags = [...inputs.slice(0, at + 1), OTHER_HELP[0] as [string, string], ...inputs.slice(at + 1)];
  return `Usage: manifest-merge --image REPO --tag TAG [--tag TAG...] --source DIGEST [--source DIGEST...] [options]
       echo "$TOKEN" | manifest-merge --username USER --password-stdin --image REPO ...
       manifest-merge --help | --version

Merge per-platform images (pushed by digest) into one multi-arch index, wait until the registry serves every
digest, write the tags as the only writer, and print the outputs as JSON on stdout; the log goes to stderr.

The flags are the action's inputs. --image, --tag, --source, --platforms and --annotations may repeat, and a
value may hold several items, comma- or newline-separated.

${helpLines(flags)}
${helpLines(OTHER_HELP.slice(1))}

Credentials without --username: the Docker config (as docker login leaves it), then $GITHUB_TOKEN for ghcr.io,
then anonymous.
Behind a proxy: $https_proxy (or $HTTPS_PROXY) and $no_proxy (or $NO_PROXY) route https requests (plain-HTTP
registries always go direct).
Exit codes: 0 success (or a dry run), 1 failure, 2 usage error.`;
}

/** Inputs that take a list: a repeated flag adds to it. Any other flag may be given once. */
const LIST_INPUTS: ReadonlySet<string> = new Set([
  INPUT.image,
  INPUT.tags,
  INPUT.sources,
  INPUT.platforms,
  INPUT.annotations,
]);
const ALIASES: Readonly<Record<string, string>> = { tag: INPUT.tags, source: INPUT.sources };
/** The flag a message names for an input the user did not type: the singular the usage shows. */
const CANONICAL: Readonly<Record<string, string>> = { [INPUT.tags]: 'tag', [INPUT.sources]: 'source' };
/** Never shown in a message, even a usage error printed before the logger masks anything. */
const SECRET_INPUTS: ReadonlySet<string> = new Set([INPUT.password, INPUT.githubToken]);
const BOOLEAN_FLAGS = ['help', 'version', 'debug', 'password-stdin', INPUT.dryRun] as const;

/** A mistake in the command line: exit code 2, with a message that names the flag. */
class UsageError extends Error {}

interface Parsed {
  /** Input name -> the values given, in order. */
  readonly values: Map<string, string[]>;
  /** Input name -> the flag the user typed for it (`tag` or `tags`). */
  readonly typed: Map<string, string>;
  readonly flags: Set<string>;
}

const show = (value: string): string => JSON.stringify(value);

/** Parses argv into the action's input names, so the one input parser serves both entry points. */
function parseCommandLine(argv: readonly string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const flag of BOOLEAN_FLAGS) options[flag] ??= { type: 'boolean' };
  for (const name of [...Object.values(INPUT), ...Object.keys(ALIASES)])
    options[name] ??= { type: 'string', multiple: true };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error, Object.keys(options)));
  }
  const { values, positionals } = parsed;
  if (positionals.length) {
    // `--password-stdin hunter2`: the stray argument is a password, so it is not echoed.
    if (argv[argv.indexOf(positionals[0] ?? '') - 1] === '--password-stdin') {
      throw new UsageError('--password-stdin takes no value: pipe the password into standard input');
    }
    throw new UsageError(
      `unexpected argument ${show(positionals[0] ?? '')}: every value follows its flag, e.g. --tag latest`,
    );
  }
  const result: Parsed = { values: new Map(), typed: new Map(), flags: new Set() };
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'boolean') {
      if (value) result.flags.add(key);
      continue;
    }
    const name = ALIASES[key] ?? key;
    result.typed.set(name, key);
    result.values.set(name, [...(result.values.get(name) ?? []), ...((value as string[] | undefined) ?? [])]);
  }
  for (const [name, given] of result.values) {
    const flag = `--${result.typed.get(name) ?? name}`;
    if (!LIST_INPUTS.has(name) && given.length > 1) {
      const shown = SECRET_INPUTS.has(name) ? '' : ` (${given.map(show).join(', ')})`;
      throw new UsageError(`${flag} is given ${given.length} times${shown}: give it once`);
    }
    if (given.some((value) => value.trim() === '')) {
      throw new UsageError(
        `${flag} is empty: give it a value (is a shell variable unset?), or leave the flag out`,
      );
    }
  }
  if (result.flags.has(INPUT.dryRun)) result.values.set(INPUT.dryRun, ['true']);
  checkTags(result);
  checkJsonSources(result);
  return result;
}

/** Node's parseArgs messages, reworded: no positional-argument advice, and the flag a typo was meant to be. */
function parseArgsMessage(error: unknown, flags: readonly string[]): string {
  const code = (error as { code?: string }).code;
  const message = errorMessage(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const meant = nearest(option.replace(/^-+/, ''), flags);
    return `unknown flag ${option}${meant ? `: did you mean --${meant}?` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(message)) {
    return `${option} needs a value, e.g. ${option} ${option === '--image' ? 'ghcr.io/org/app' : '…'}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${option} takes no value`;
  return message;
}

/** A branch name such as feature/x is the usual `/` in a tag; a repository without `:TAG` the other one. */
function checkTags(parsed: Parsed): void {
  const flag = `--${parsed.typed.get(INPUT.tags) ?? 'tag'}`;
  for (const item of (parsed.values.get(INPUT.tags) ?? []).flatMap(listOf)) {
    const last = item.slice(item.lastIndexOf('/') + 1);
    if (!item.includes('/') || last.includes(':') || item.includes('@')) continue;
    const first = item.slice(0, item.indexOf('/'));
    const repository = first.includes('.') || first.includes(':') || first === 'localhost';
    throw new UsageError(
      repository
        ? `${flag} ${show(item)} is a repository without a tag: add :TAG, e.g. ${item}:latest`
        : `${flag} ${show(item)} is not a tag: a tag cannot hold "/"; write e.g. ${item.replaceAll('/', '-')}, ` +
            'or a full reference REPO:TAG',
    );
  }
}

/** A JSON array or object is a whole `sources` value: two of them, or one beside lines, would not parse. */
function checkJsonSources(parsed: Parsed): void {
  const given = parsed.values.get(INPUT.sources) ?? [];
  const json = given.filter((value) => /^\s*[[{]/.test(value));
  if (json.length > 0 && given.length > 1) {
    const flag = `--${parsed.typed.get(INPUT.sources) ?? 'source'}`;
    throw new UsageError(
      `${flag} ${show(json[0] ?? '')} is JSON, which must be the only ${flag}: put every entry in it, or give ` +
        `one ${flag} per entry without JSON`,
    );
  }
}

/** Reads the password from standard input, as `docker login --password-stdin` does: all of it, less one newline. */
function readPasswordStdin(parsed: Parsed, readStdin: () => string): string {
  if (parsed.values.has(INPUT.password)) {
    throw new UsageError('--password and --password-stdin are both given: keep --password-stdin');
  }
  const password = readStdin().replace(/\r?\n$/, '');
  if (password.trim() === '') {
    throw new UsageError(
      `--password-stdin read no password from standard input: pipe it in, e.g. echo "$TOKEN" | ` +
        'manifest-merge --username USER --password-stdin ...',
    );
  }
  return password;
}

/** Credentials come in pairs; said here in flags, not in the action's input names. */
function checkCredentials(parsed: Parsed, passwordFlag: string | undefined): void {
  const username = parsed.values.has(INPUT.username);
  if (username && passwordFlag === undefined) {
    throw new UsageError(
      '--username needs the password: pipe it into --password-stdin, e.g. echo "$TOKEN" | ' +
        'manifest-merge --username USER --password-stdin ...',
    );
  }
  if (!username && passwordFlag !== undefined) {
    throw new UsageError(
      `${passwordFlag} needs --username; without both, the Docker config (docker login) gives the credentials`,
    );
  }
}

/**
 * Digest files downloaded as one folder per artifact (download-artifact without merge-multiple: true, or
 * `gh run download`) leave folders where the digest files should be.
 */
function checkSourcesDir(parsed: Parsed): void {
  const dir = parsed.values.get(INPUT.sourcesDir)?.[0];
  if (dir === undefined) return;
  let folders: string[];
  try {
    folders = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return; // the input parser says what is wrong with the path
  }
  if (folders.length === 0) return;
  throw new UsageError(
    `--sources-dir ${show(dir)} holds folders (${folders.slice(0, 3).join(', ')}${folders.length > 3 ? ', …' : ''}), ` +
      'not digest files: put the digest files of every artifact in one folder (actions/download-artifact does ' +
      `that with merge-multiple: true; after gh run download: mkdir digests && mv ${dir}/*/* digests/)`,
  );
}

/** An input's error in the words of the command line: `--tag: …` rather than `input "tags": …`. */
function cliMessage(error: InputError, parsed: Parsed): string {
  const flag = (name: string) => `--${parsed.typed.get(name) ?? CANONICAL[name] ?? name}`;
  const prefix = `input "${error.input}": `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const inputs = new Set<string>(Object.values(INPUT));
  const reworded = detail.replace(
    /\b(unless|when) "([a-z-]+)" is set/g,
    (whole, word: string, name: string) => (inputs.has(name) ? `${word} ${flag(name)} is set` : whole),
  );
  return `${flag(error.input)}: ${reworded}`;
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (line: string) => void;
  /** All of standard input; read only for --password-stdin. */
  readonly readStdin: () => string;
}

const PROCESS_IO: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => readFileSync(0, 'utf8'),
};

export async function cli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CliIo = PROCESS_IO,
): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    const early = consoleLogger({ debug: false, write: io.stderr });
    early.error(errorMessage(error));
    early.info('Run manifest-merge --help for every flag.');
    return 2;
  }
  if (parsed.flags.has('help')) {
    io.stdout(`${usage()}\n`);
    return 0;
  }
  if (parsed.flags.has('version')) {
    io.stdout(`manifest-merge ${VERSION}\n`);
    return 0;
  }
  const log = consoleLogger({ debug: parsed.flags.has('debug'), write: io.stderr });
  try {
    // Secrets are masked before anything else can print them.
    for (const secret of [...(parsed.values.get(INPUT.password) ?? []), env['GITHUB_TOKEN'] ?? '']) {
      if (secret) log.secret(secret);
    }
    let passwordFlag: string | undefined;
    if (parsed.flags.has('password-stdin')) {
      const password = readPasswordStdin(parsed, io.readStdin);
      log.secret(password);
      parsed.values.set(INPUT.password, [password]);
      passwordFlag = '--password-stdin';
    } else if (parsed.values.has(INPUT.password)) {
      passwordFlag = '--password';
      log.warning('--password shows the password to other users in the process list; use --password-stdin');
    }
    checkCredentials(parsed, passwordFlag);
    checkSourcesDir(parsed);
    if (!parsed.values.has(INPUT.githubToken) && env['GITHUB_TOKEN']) {
      parsed.values.set(INPUT.githubToken, [env['GITHUB_TOKEN']]);
    }
    const inputs = parseInputs({
      read: (name) => (parsed.values.get(name) ?? []).join('\n'),
      listDir: (path) => readdirSync(path),
      secret: (value) => log.secret(value),
    });
    const result = await runWithClient(inputs, log, {
      githubActor: env['GITHUB_ACTOR'],
      // As other CI systems set them for a GitHub repository: `forward` ordered by revision compares commits there.
      githubSha: env['GITHUB_SHA'],
      githubRepository: env['GITHUB_REPOSITORY'],
      dockerConfigs: dockerConfigs(
        env,
        inputs.targets.map((target) => target.image),
        (message) => log.warning(message),
      ),
      runHelper: helperRunner(env, inputs.waitTimeoutMs),
      userAgent: 'manifest-merge-cli',
      proxyEnv: env,
    });
    io.stdout(`${printableJson(outputValues(result))}\n`);
    return 0;
  } catch (error) {
    if (error instanceof PartialPublishError) {
      io.stdout(`${printableJson(partialCliOutputsOf(error.result))}\n`);
    }
    if (error instanceof UsageError) {
      log.error(error.message);
      return 2;
    }
    if (error instanceof Error && error.stack) log.debug(error.stack);
    log.error(error instanceof InputError ? cliMessage(error, parsed) : errorMessage(error));
    return error instanceof InputError ? 2 : 1;
  }
}
