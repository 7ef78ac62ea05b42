import { accessSync, appendFileSync, constants, existsSync } from 'node:fs';
import { EOL } from 'node:os';
import { type Logger, printable, secretParts } from './log.js';

/**
 * The runner's side of the action, written directly: inputs from `INPUT_*`, workflow commands on stdout, outputs
 * in the GITHUB_OUTPUT file, the job summary in GITHUB_STEP_SUMMARY. This is all the action used of
 * @actions/core, and importing @actions/core loaded its HTTP client, which the action never used, into every
 * start (about 1 MiB of the bundle; see docs/benchmarks.md). Escaping, properties and file formats are @actions/core's,
 * byte for byte: __tests__/actions-log.test.ts runs both on the same values.
 */

/** Where workflow commands and log lines go: the runner reads the step's stdout. */
export type Write = (text: string) => void;

let pending = '';
let scheduled = false;
let hooked = false;

/**
 * Writes what is gathered for stdout. Lines are gathered and written once per turn of the event loop, not one
 * write each: every write to the runner's pipe can wake the process reading it, and on a busy machine the lines of
 * one round took longer than the round itself (docs/benchmarks.md). The action calls this before it ends.
 */
export function flushOutput(): void {
  scheduled = false;
  if (pending === '') return;
  const text = pending;
  pending = '';
  process.stdout.write(text);
}

const stdout: Write = (text) => {
  pending += text;
  if (!hooked) {
    hooked = true;
    // Whatever a crash leaves behind (writes to a pipe or a file are synchronous on Linux and Windows).
    process.once('exit', flushOutput);
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushOutput);
  }
};

/** An input as the runner passes it (`INPUT_<NAME>`, spaces as `_`), trimmed; '' when unset (core.getInput). */
export function getInput(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim();
}

/** A value as @actions/core writes it: strings as they are, nothing as '', anything else as JSON. */
function commandValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || value instanceof String) return String(value);
  return JSON.stringify(value);
}

/** Command data: `%`, CR and LF escaped, so a value can neither end the command nor start another line. */
export function escapeData(value: unknown): string {
  return commandValue(value).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A command property: as data, and `:` and `,`, which separate properties. */
export function escapeProperty(value: unknown): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::name key=value,...::message`; properties without a value are left out, as @actions/core does. */
export function workflowCommand(
  name: string,
  properties: Readonly<Record<string, string | undefined>>,
  message: unknown,
): string {
  const props = Object.entries(properties)
    .filter(([, value]) => value)
    .map(([key, value]) => `${key}=${escapeProperty(value)}`);
  // Like @actions/core: the space comes with any property given, even one left out for having no value.
  const space = Object.keys(properties).length > 0 ? ' ' : '';
  return `::${name}${space}${props.join(',')}::${escapeData(message)}`;
}

/** Sets an output: a `name<<delimiter` block in GITHUB_OUTPUT, or the old `::set-output::` without it. */
export function setOutput(
  name: string,
  value: unknown,
  env: NodeJS.ProcessEnv = process.env,
  write: Write = stdout,
): void {
  const file = env['GITHUB_OUTPUT'] || '';
  if (!file) {
    write(EOL);
    write(`${workflowCommand('set-output', { name }, commandValue(value))}${EOL}`);
    return;
  }
  if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`);
  appendFileSync(file, `${keyValueBlock(name, value)}${EOL}`, { encoding: 'utf8' });
}

/** `name<<delimiter`, the value, the delimiter: a random delimiter that neither the name nor the value holds. */
function keyValueBlock(name: string, value: unknown): string {
  const delimiter = `ghadelimiter_${process.getBuiltinModule('node:crypto').randomUUID()}`;
  const text = commandValue(value);
  if (name.includes(delimiter)) {
    throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
  }
  if (text.includes(delimiter)) {
    throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
  }
  return `${name}<<${delimiter}${EOL}${text}${EOL}${delimiter}`;
}

/** Appends Markdown to the job summary (GITHUB_STEP_SUMMARY), which must exist and be writable. */
export function appendSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = env['GITHUB_STEP_SUMMARY'];
  if (!file) {
    throw new Error(
      'Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.',
    );
  }
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch {
    throw new Error(
      `Unable to access summary file: '${file}'. Check if the file has correct read/write permissions.`,
    );
  }
  appendFileSync(file, markdown, { encoding: 'utf8' });
}

/** Fails the step: exit code 1 and an error annotation. */
export function setFailed(message: string, write: Write = stdout): void {
  process.exitCode = 1;
  write(`${workflowCommand('error', {}, message)}${EOL}`);
}

/**
 * The Logger for the runner: groups fold in the run log, secrets are masked by the runner. Debug lines are written
 * only when the runner shows them (step debug logging on, RUNNER_DEBUG=1): it drops them otherwise, and there is
 * one per request.
 */
export function actionsLogger(write: Write = stdout, env: NodeJS.ProcessEnv = process.env): Logger {
  const issue = (name: string, message: string, properties: Record<string, string | undefined> = {}) =>
    write(`${workflowCommand(name, properties, message)}${EOL}`);
  const debug = env['RUNNER_DEBUG'] === '1';
  return {
    debug: (message) => {
      if (debug) issue('debug', printable(message));
    },
    // Info is written as it is: a newline in it would start a line the runner reads as a command.
    info: (message) => write(`${printable(message)}${EOL}`),
    warning: (message, title) => issue('warning', printable(message), title ? { title } : {}),
    group: async (name, fn) => {
      issue('group', name);
      try {
        return await fn();
      } finally {
        issue('endgroup', '');
      }
    },
    // Written at once: the runner must know a secret before anything, stderr included, could show it.
    secret: (value) => {
      for (const part of secretParts(value)) issue('add-mask', part);
      if (write === stdout) flushOutput();
    },
  };
}
