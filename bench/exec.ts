import { spawn } from 'node:child_process';

/** One command of a tool's merge, run as a child process. */
export interface Step {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly stdin?: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const STEP_TIMEOUT_MS = 300_000;
const ERROR_TAIL_CHARS = 2_000;

/**
 * Runs one step to completion; `onSpawn` is called right before the process starts (start-up timing).
 * Never blocks the event loop: the proxy the child talks to runs in this process.
 */
export function runStep(step: Step, onSpawn?: () => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    onSpawn?.();
    const child = spawn(step.command, [...step.args], { env: step.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // The child may exit without reading its input.
    });
    child.stdin.end(step.stdin ?? '');
  });
}

/** Runs a step and throws, with the end of its output, unless it exits 0. */
export async function mustRun(step: Step, onSpawn?: () => void): Promise<Exit> {
  const exit = await runStep(step, onSpawn);
  if (exit.code !== 0) {
    const output = `${exit.stderr}${exit.stdout}`.trim().slice(-ERROR_TAIL_CHARS);
    const status = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
    throw new Error(
      `${[step.command, ...step.args.slice(0, 3)].join(' ')} ... failed (${status}):\n${output}`,
    );
  }
  return exit;
}
