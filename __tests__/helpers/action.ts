import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const ACTION_ENTRY = join(ROOT, 'dist/index.js');
export const CLI_ENTRY = join(ROOT, 'dist/cli/index.js');

/** A test timeout for runs that must end on their own, well before the action's default wait-timeout (120 s). */
export const FAST = 30_000;

export interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ActionResult extends ProcessResult {
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

/** Runs Node with `args` in exactly the environment `env`, from the repository's root unless `cwd` says. */
export function runNode(
  args: string[],
  env: Record<string, string>,
  stdin = '',
  cwd = ROOT,
): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    // The environment is built from scratch so nothing of the developer's machine (tokens, Docker config) leaks in.
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Parses the runner's GITHUB_OUTPUT file: `name<<DELIMITER` blocks (and plain `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
      outputs[name] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

/** The action's failure line (`::error::…`), as the runner shows it; '' when there is none. */
export function errorLine(result: ActionResult): string {
  return result.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? '';
}

/** Everything a user or a later step could see: stdout but the runner's mask commands, stderr, outputs, summary. */
export function visible(result: ActionResult): string {
  const stdout = result.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
  return [...stdout, result.stderr, JSON.stringify(result.outputs), result.summary].join('\n');
}

/**
 * Runs the bundled action as the runner does: `node dist/index.js` with INPUT_* and the command files, in `cwd`
 * (the runner's is the checked-out repository; the project's root by default).
 */
export async function runAction(
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
  options: { cwd?: string } = {},
): Promise<ActionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-action-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    ...extraEnv,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  try {
    const result = await runNode([ACTION_ENTRY], env, '', options.cwd);
    return {
      ...result,
      outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
      summary: readFileSync(summaryFile, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the bundled CLI with the given arguments. */
export async function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mm-cli-'));
  try {
    return await runNode(
      [CLI_ENTRY, ...args],
      { PATH: process.env['PATH'] ?? '', HOME: dir, ...options.env },
      options.stdin,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
