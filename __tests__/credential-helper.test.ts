import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  execHelper,
  findOnPath,
  HELPER_OUTPUT_LIMIT,
  type HelperOptions,
  helperEnv,
} from '../src/credential-helper.js';

const SECRET = 's3cret-from-helper';
const CONFIG_PATH = '/home/u/.docker/config.json';

let root: string;
let bin: string;
let options: HelperOptions;

/** Writes an executable `docker-credential-<name>` shell script into the test's PATH folder. */
function helper(name: string, body: string): void {
  const path = join(bin, `docker-credential-${name}`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mm-helper-'));
  bin = join(root, 'bin');
  mkdirSync(bin);
  options = {
    configPath: CONFIG_PATH,
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` },
  };
  helper(
    'ok',
    `[ "$1" = get ] || exit 2\nread -r url\nprintf '{"ServerURL":"%s","Username":"robot","Secret":"${SECRET}"}' "$url"`,
  );
  helper('echo-url', `cat > '${join(root, 'asked')}'\necho '{"Username":"u","Secret":"${SECRET}"}'`);
  helper('none', 'echo "credentials not found in native keychain"\nexit 1');
  helper('broken', `echo "${SECRET}"\necho "${SECRET}" >&2\nexit 3`);
  helper('garbage', `echo "token=${SECRET}"`);
  helper('chatty', `yes "${SECRET}" | head -c ${HELPER_OUTPUT_LIMIT * 2}`);
  helper('hang', `sleep 1000 &\necho "$$ $!" > '${join(root, 'pids')}'\nwait`);
  const notExecutable = join(bin, 'docker-credential-noexec');
  writeFileSync(notExecutable, '#!/bin/sh\necho {}\n');
  chmodSync(notExecutable, 0o644);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Whether a process is still running (a zombie waiting to be reaped is not). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('execHelper', () => {
  test('asks with the server URL on stdin and returns the JSON answer', async () => {
    expect(await execHelper('ok', 'ghcr.io', options)).toEqual({ Username: 'robot', Secret: SECRET });
    await execHelper('echo-url', 'https://index.docker.io/v1/', options);
    expect(readFileSync(join(root, 'asked'), 'utf8')).toBe('https://index.docker.io/v1/');
  });

  test('"credentials not found" (exit 1) means nothing for that server', async () => {
    expect(await execHelper('none', 'ghcr.io', options)).toBeUndefined();
  });

  test('another failure names the helper, server and exit code, never its output', async () => {
    const error = await execHelper('broken', 'ghcr.io', options).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^docker-credential-broken get failed for ghcr.io \(exit code 3\): /,
    );
    expect((error as Error).message).not.toContain(SECRET);
  });

  test('an answer that is not JSON is an error that does not quote it', async () => {
    const error = await execHelper('garbage', 'ghcr.io', options).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^docker-credential-garbage get answered ghcr.io with something other than a JSON object: /,
    );
    expect((error as Error).message).not.toContain(SECRET);
  });

  test('output beyond the limit is an error', async () => {
    const error = await execHelper('chatty', 'ghcr.io', options).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^docker-credential-chatty printed more than 64 KiB on stdout/);
    expect((error as Error).message).not.toContain(SECRET);
  });

  test('a helper that hangs is killed, with what it started, and the error says it timed out', async () => {
    const error = await execHelper('hang', 'ghcr.io', { ...options, timeoutMs: 200 }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^docker-credential-hang did not answer within 0.2 s for ghcr.io and was killed: /,
    );
    const [shell, sleeper] = readFileSync(join(root, 'pids'), 'utf8').trim().split(' ').map(Number);
    // The helper itself has been reaped by the time the error comes.
    expect(running(shell as number)).toBe(false);
    // What it started got the same SIGKILL (its group); its exit is seen asynchronously.
    await vi.waitFor(() => expect(running(sleeper as number)).toBe(false));
  });

  test('a helper not on PATH names the config to fix', async () => {
    await expect(execHelper('absent', 'ghcr.io', options)).rejects.toThrow(
      'the Docker config names credential helper "absent" but docker-credential-absent is not on PATH (only ' +
        `absolute PATH entries are searched): install it or remove "credsStore"/"credHelpers" from ${CONFIG_PATH}`,
    );
  });

  test('a helper that cannot be run says why', async () => {
    await expect(execHelper('noexec', 'ghcr.io', options)).rejects.toThrow(
      /^docker-credential-noexec could not be run \(EACCES\): /,
    );
  });

  test('a helper name that could reach another program is refused without running anything', async () => {
    await expect(execHelper('../../bin/sh', 'ghcr.io', options)).rejects.toThrow(
      /invalid credential helper "..\/..\/bin\/sh": fix "credsStore"\/"credHelpers" in \/home\/u/,
    );
  });
});

describe('where a helper is found, and what it sees', () => {
  test('only absolute PATH entries are searched; the first executable wins', () => {
    const program = 'docker-credential-ok';
    expect(findOnPath(program, ['', '.', 'bin', bin].join(delimiter))).toBe(join(bin, program));
    // Relative to the working directory, the helper would be found: it is not.
    expect(findOnPath(program, ['', '.', relative(process.cwd(), bin)].join(delimiter))).toBeUndefined();
    expect(findOnPath(program, '')).toBeUndefined();
  });

  test('the inputs, the runner tokens and GITHUB_TOKEN are left out; the rest stays', () => {
    expect(
      helperEnv({
        PATH: '/usr/bin',
        HOME: '/home/u',
        INPUT_PASSWORD: 'p',
        input_username: 'u',
        ACTIONS_RUNTIME_TOKEN: 't',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'o',
        GITHUB_TOKEN: 'g',
        GITHUB_SHA: 'abc',
        AWS_REGION: 'eu-west-1',
      }),
    ).toEqual({ PATH: '/usr/bin', HOME: '/home/u', GITHUB_SHA: 'abc', AWS_REGION: 'eu-west-1' });
  });
});
