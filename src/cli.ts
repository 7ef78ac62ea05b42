import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { helperRunner, readDockerConfig } from './credential-helper.js';
import { errorMessage } from './errors.js';
import { INPUT, InputError } from './input-names.js';
import { DEFAULTS, parseInputs } from './inputs.js';
import { consoleLogger } from './log.js';
import { outputValues, partialCliOutputsOf } from './outputs.js';
import { PartialPublishError } from './run.js';
import { runWithClient } from './run-with-client.js';

const USAGE = `Usage: manifest-merge --image REPO --tag TAG [--tag TAG...] --source DIGEST [--source DIGEST...] [options]

Merge per-platform images (pushed by digest) into one multi-arch index, wait until the registry serves
every digest, write the tags as the only writer, and print the outputs as JSON on stdout.

Options (the action's inputs, as flags; --tag and --source may repeat):
  --image REPO            target repository, e.g. ghcr.io/org/app (required)
  --tags, --tag TAGS      tags to write, comma- or newline-separated; the first is the primary (required)
  --sources, --source S   sha256:<hex>, <repo>@sha256:<hex>, optional <os>/<arch>[/<variant>]= prefix;
                          or a JSON array / object {"linux/amd64": "sha256:..."}
  --sources-dir DIR       folder of digest files (file name = digest hex)
  --platforms LIST        expected platforms, e.g. linux/amd64,linux/arm64
  --attestations MODE     keep | drop (default ${DEFAULTS['attestations']})
  --annotations LINES     key=value lines set on the index
  --media-type TYPE       auto | oci | docker (default ${DEFAULTS['media-type']})
  --if-tag-exists MODE    overwrite | fail | skip (default ${DEFAULTS['if-tag-exists']})
  --wait-timeout TIME     e.g. 90s, 2m (default ${DEFAULTS['wait-timeout']})
  --username USER         registry user name
  --password-stdin        read the registry password from standard input
  --github-token TOKEN    token for ghcr.io (default: $GITHUB_TOKEN)
  --dry-run               resolve, wait and assemble; write nothing
  --plain-http MODE       auto | true | false (default ${DEFAULTS['plain-http']})
  --debug                 log every request
  -h, --help              show this help

Exit codes: 0 success, 1 failure, 2 usage error.`;

const REPEATABLE: Record<string, string> = { tag: INPUT.tags, source: INPUT.sources };

/** Parses argv into the action's input names, so the one input parser serves both entry points. */
function cliValues(argv: readonly string[]): { values: Map<string, string>; flags: Set<string> } {
  const names = Object.values(INPUT) as string[];
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    debug: { type: 'boolean' },
    'password-stdin': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  };
  for (const name of names) options[name] ??= { type: 'string', multiple: true };
  for (const alias of Object.keys(REPEATABLE)) options[alias] = { type: 'string', multiple: true };
  const { values, positionals } = parseArgs({
    args: [...argv],
    options,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const result = new Map<string, string>();
  const flags = new Set<string>();
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'boolean') {
      if (value) flags.add(key);
      continue;
    }
    const name = REPEATABLE[key] ?? key;
    const joined = [result.get(name), ...(value ?? [])].filter((v) => v !== undefined).join('\n');
    result.set(name, joined);
  }
  if (flags.has('dry-run')) result.set(INPUT.dryRun, 'true');
  return { values: result, flags };
}

class UsageError extends Error {}

export async function cli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: ReturnType<typeof cliValues>;
  try {
    parsed = cliValues(argv);
  } catch (error) {
    process.stderr.write(`manifest-merge: ${errorMessage(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.flags.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = consoleLogger({ debug: parsed.flags.has('debug') });
  try {
    if (parsed.flags.has('password-stdin')) {
      parsed.values.set(INPUT.password, readFileSync(0, 'utf8').replace(/\r?\n$/, ''));
    }
    if (!parsed.values.has(INPUT.githubToken) && env['GITHUB_TOKEN']) {
      parsed.values.set(INPUT.githubToken, env['GITHUB_TOKEN']);
    }
    const inputs = parseInputs({
      read: (name) => parsed.values.get(name) ?? '',
      listDir: (path) => readdirSync(path),
      secret: (value) => log.secret(value),
    });
    const result = await runWithClient(inputs, log, {
      githubActor: env['GITHUB_ACTOR'],
      dockerConfig: readDockerConfig(env, (message) => log.warning(message)),
      runHelper: helperRunner(env, inputs.waitTimeoutMs),
      userAgent: 'manifest-merge-cli',
    });
    process.stdout.write(`${JSON.stringify(outputValues(result), null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof PartialPublishError) {
      process.stdout.write(`${JSON.stringify(partialCliOutputsOf(error.result), null, 2)}\n`);
    }
    if (error instanceof Error && error.stack) log.debug(error.stack);
    log.error(errorMessage(error));
    return error instanceof InputError ? 2 : 1;
  }
}
