import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { HelperRunner } from './docker-config.js';
import { dockerConfigPath } from './docker-config-files.js';

/** How long a helper may take: a locked keychain or a login prompt would otherwise block the run forever. */
const HELPER_TIMEOUT_MS = 30_000;
/** The most a helper may print on stdout or on stderr; a real answer is a few hundred bytes. */
export const HELPER_OUTPUT_LIMIT = 64 * 1024;

export interface HelperOptions {
  /** The Docker config that names the helpers, for the fix when one is missing. */
  readonly configPath: string;
  /** Longest wait for an answer, after which the helper is killed; HELPER_TIMEOUT_MS by default. */
  readonly timeoutMs?: number;
  /** Where the helper is looked up (its PATH) and what it runs with, trimmed by helperEnv; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
}

type Answer = Awaited<ReturnType<HelperRunner>>;

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The HelperRunner the action and the CLI use: helpers run in `env`, named by its Docker config, and are bounded
 * by wait-timeout as every request is, but never wait longer than HELPER_TIMEOUT_MS.
 */
export function helperRunner(env: NodeJS.ProcessEnv, waitTimeoutMs: number): HelperRunner {
  const options = {
    configPath: dockerConfigPath(env),
    timeoutMs: Math.min(HELPER_TIMEOUT_MS, waitTimeoutMs),
    env,
  };
  return (helper, serverUrl) => execHelper(helper, serverUrl, options);
}

/**
 * Runs `docker-credential-<helper> get` as Docker does: the server URL on stdin, JSON on stdout; "not found"
 * answers undefined. Bounded in time and output. No message quotes the helper's output: it may hold the secret.
 */
export async function execHelper(helper: string, serverUrl: string, options: HelperOptions): Promise<Answer> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper))
    throw new Error(
      `the Docker config names an invalid credential helper ${JSON.stringify(helper)}: fix "credsStore"/"credHelpers" in ${options.configPath}`,
    );
  const program = `docker-credential-${helper}`;
  const env = options.env ?? process.env;
  const path = findOnPath(program, env['PATH'] ?? '');
  if (path === undefined)
    throw new Error(
      `the Docker config names credential helper "${helper}" but ${program} is not on PATH (only absolute PATH ` +
        `entries are searched): install it or remove "credsStore"/"credHelpers" from ${options.configPath}`,
    );
  const finished = await runProgram(program, path, serverUrl, { ...options, env: helperEnv(env) });
  return answerOf(program, serverUrl, finished);
}

/**
 * The helper's executable, on the absolute entries of PATH only. An empty or relative entry means the working
 * directory, which in a workflow is the checked-out repository: a `docker-credential-*` committed there must not
 * run with the job's environment.
 */
export function findOnPath(program: string, path: string): string | undefined {
  const names = process.platform === 'win32' ? [`${program}.exe`, program] : [program];
  // A file that is there but not executable is kept for the message, should nothing executable follow.
  let notExecutable: string | undefined;
  for (const dir of path.split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        if (!statSync(candidate).isFile()) continue;
      } catch {
        continue;
      }
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        notExecutable ??= candidate;
      }
    }
  }
  return notExecutable;
}

/**
 * What a helper runs with: the job's environment less what is the action's own and never the helper's business,
 * the inputs (`INPUT_*`, the password among them), the runner's `ACTIONS_*` tokens and `GITHUB_TOKEN`. A helper
 * keeps what cloud logins need (HOME, PATH, AWS_*, GOOGLE_*, AZURE_*, DOCKER_CONFIG).
 */
export function helperEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([name]) => !/^(INPUT_|ACTIONS_)/i.test(name) && name.toUpperCase() !== 'GITHUB_TOKEN',
    ),
  );
}

function runProgram(
  program: string,
  path: string,
  serverUrl: string,
  options: HelperOptions,
): Promise<Finished> {
  const timeoutMs = options.timeoutMs ?? HELPER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Loaded on first use, not at start: most runs start no helper (docs/benchmarks.md).
    const { spawn } = process.getBuiltinModule('node:child_process');
    // Its own process group (POSIX), so a kill also ends whatever the helper started; stdio is never inherited.
    const child = spawn(path, ['get'], {
      env: options.env ?? process.env,
      stdio: 'pipe',
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    let failure: Error | undefined;
    const stop = (error: Error) => {
      if (failure) return;
      failure = error;
      killGroup(child);
      // Closing our ends lets 'close' come once the helper exits, even if something it started holds the pipes.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(() => stop(timedOut(program, serverUrl, timeoutMs)), timeoutMs);
    const stdout = collect(child.stdout, () => stop(tooLong(program, 'stdout')));
    const stderr = collect(child.stderr, () => stop(tooLong(program, 'stderr')));
    // A helper may exit without reading stdin; that broken pipe is not the failure to report.
    child.stdin.on('error', () => {});
    child.stdin.end(serverUrl);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(failure ?? notRunnable(program, error, options.configPath));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve({ code, signal, stdout: stdout(), stderr: stderr() });
    });
  });
}

/** Gathers a stream's text up to HELPER_OUTPUT_LIMIT bytes; beyond it, calls `overflow` instead. */
function collect(stream: Readable, overflow: () => void): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > HELPER_OUTPUT_LIMIT) overflow();
    else chunks.push(chunk);
  });
  return () => Buffer.concat(chunks).toString('utf8');
}

function killGroup(child: ChildProcess): void {
  try {
    // A negative pid is the group the detached helper leads.
    if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function answerOf(program: string, serverUrl: string, finished: Finished): Answer {
  if (finished.code !== 0) {
    // Helpers say "credentials not found in native keychain" (exit 1) when they hold nothing for the server.
    if (finished.code !== null && /not found/i.test(finished.stdout + finished.stderr)) return undefined;
    const how = finished.signal ? `killed by ${finished.signal}` : `exit code ${finished.code}`;
    throw new Error(
      `${program} get failed for ${serverUrl} (${how}): log in again or check the helper by running it by hand; its output is not shown as it may hold a secret`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(finished.stdout);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new Error(
      `${program} get answered ${serverUrl} with something other than a JSON object: check that it is a Docker credential helper; its output is not shown as it may hold a secret`,
    );
  const { Username, Secret } = parsed as { Username?: unknown; Secret?: unknown };
  if (typeof Secret !== 'string') return undefined;
  return { Username: typeof Username === 'string' ? Username : '', Secret };
}

function timedOut(program: string, serverUrl: string, timeoutMs: number): Error {
  return new Error(
    `${program} did not answer within ${timeoutMs / 1000} s for ${serverUrl} and was killed: check that it does not wait for a prompt or a locked keychain (run "${program} get" by hand)`,
  );
}

function tooLong(program: string, stream: string): Error {
  return new Error(
    `${program} printed more than ${HELPER_OUTPUT_LIMIT / 1024} KiB on ${stream} and was killed: check that it is a Docker credential helper`,
  );
}

function notRunnable(program: string, error: Error, configPath: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return new Error(
    `${program} could not be run (${code ?? error.message}): check that it is an executable file, or remove "credsStore"/"credHelpers" from ${configPath}`,
  );
}
