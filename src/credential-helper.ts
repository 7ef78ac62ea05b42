import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { getExecOutput } from '@actions/exec';
import { type DockerConfig, type HelperRunner, parseDockerConfig } from './docker-config.js';

/**
 * Runs `docker-credential-<helper> get` as Docker does: the server URL on stdin, JSON on stdout. Silent, so
 * neither the command's output nor its secret reaches the log; "not found" answers undefined.
 */
export const execHelper: HelperRunner = async (helper, serverUrl) => {
  if (!/^[A-Za-z0-9._-]+$/.test(helper))
    throw new Error(`the Docker config names an invalid credential helper "${helper}"`);
  const program = `docker-credential-${helper}`;
  let result: Awaited<ReturnType<typeof getExecOutput>>;
  try {
    result = await getExecOutput(program, ['get'], {
      input: Buffer.from(serverUrl),
      silent: true,
      ignoreReturnCode: true,
    });
  } catch (error) {
    throw new Error(
      `the Docker config uses the credential helper ${program}, which could not be run: ${(error as Error).message}`,
    );
  }
  if (result.exitCode !== 0) {
    if (/not found/i.test(result.stdout + result.stderr)) return undefined;
    throw new Error(
      `${program} get failed for ${serverUrl} (exit code ${result.exitCode}): check the helper's login`,
    );
  }
  try {
    const parsed = JSON.parse(result.stdout) as { Username?: unknown; Secret?: unknown };
    if (typeof parsed.Secret !== 'string') return undefined;
    return { Username: typeof parsed.Username === 'string' ? parsed.Username : '', Secret: parsed.Secret };
  } catch {
    throw new Error(`${program} get answered something other than JSON for ${serverUrl}`);
  }
};

/** Reads `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; undefined when there is none. */
export function readDockerConfig(env: NodeJS.ProcessEnv): DockerConfig | undefined {
  const dir = env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return undefined;
  return parseDockerConfig(readFileSync(path, 'utf8'), path);
}
