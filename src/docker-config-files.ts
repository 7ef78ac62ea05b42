import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ConfigWarning, type DockerConfig, parseDockerConfig } from './docker-config.js';
import type { Repository } from './registry/reference.js';

/**
 * The Docker config files credentials come from: the main one, and the ones docker/login-action v4 writes for a
 * `scope` (a repository, with actions) so that the runner's own Docker Hub login stays untouched. login-action
 * runs `docker login` with DOCKER_CONFIG set to `<buildx config>/config/<registry>/<scope>[@<actions>]`, where the
 * buildx config is $BUILDX_CONFIG or $DOCKER_CONFIG/buildx (~/.docker/buildx), and Docker Hub's registry is
 * `registry-1.docker.io`.
 */

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, as Docker looks for it. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(dockerDir(env), 'config.json');
}

function dockerDir(env: NodeJS.ProcessEnv): string {
  return env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
}

/**
 * For each registry, the configs to look in, in order: the scoped config of a target image on it (the most
 * specific scope that exists), then the main config. Read once, here.
 */
export function dockerConfigs(
  env: NodeJS.ProcessEnv,
  images: readonly Repository[],
  warn: ConfigWarning,
): (registry: string) => readonly DockerConfig[] {
  const main = readDockerConfig(env, warn);
  const scoped = new Map<string, DockerConfig>();
  for (const image of images) {
    if (scoped.has(image.registry)) continue;
    const found = scopedConfig(env, image, warn);
    if (found) scoped.set(image.registry, found);
  }
  return (registry) => [scoped.get(registry), main].filter((c): c is DockerConfig => c !== undefined);
}

/** The scoped config login-action wrote for this repository, or for a namespace or the registry above it. */
function scopedConfig(
  env: NodeJS.ProcessEnv,
  image: Repository,
  warn: ConfigWarning,
): DockerConfig | undefined {
  for (const dir of scopedConfigDirs(env, image)) {
    const config = readConfigFile(join(dir, 'config.json'), warn);
    if (config) return config;
  }
  return undefined;
}

/** Candidate folders, most specific first: `org/app@push`, `org/app`, `org@push`, `org`, then the registry's. */
export function scopedConfigDirs(env: NodeJS.ProcessEnv, image: Repository): string[] {
  const root = join(env['BUILDX_CONFIG'] || join(dockerDir(env), 'buildx'), 'config', image.endpoint);
  const parts = image.path.split('/');
  const dirs: string[] = [];
  for (let n = parts.length; n > 0; n--) {
    const scope = join(root, ...parts.slice(0, n));
    dirs.push(`${scope}@push`, `${scope}@pull,push`, scope);
  }
  dirs.push(`${root}@push`, `${root}@pull,push`);
  return dirs;
}

/**
 * The Docker config, or undefined when there is none. A config that cannot be read or parsed is warned about and
 * ignored, as Docker does, so `username`/`password` inputs still work.
 */
export function readDockerConfig(env: NodeJS.ProcessEnv, warn: ConfigWarning): DockerConfig | undefined {
  return readConfigFile(dockerConfigPath(env), warn);
}

function readConfigFile(path: string, warn: ConfigWarning): DockerConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      warn(`the Docker config ${path} could not be read (${code}); it is ignored: fix or remove it`);
    return undefined;
  }
  return parseDockerConfig(text, path, warn);
}
