import { readdirSync, readFileSync } from 'node:fs';
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

/** The Docker configs credentials come from, chosen per repository. */
export interface DockerConfigs {
  /**
   * The configs to look in for `repository`, in order: the scoped login that covers it, then the main config
   * (alone for no repository).
   */
  configsFor(repository: Repository | undefined): readonly DockerConfig[];
  /**
   * Which login covers `repository`: the scoped config folder, or '' for the main config. Repositories with the
   * same login get the same credentials, so they can share one token.
   */
  loginOf(repository: Repository): string;
}

/**
 * The configs, read once each. A scoped login covers a repository as buildx reads it: the scope's repository path
 * is the full repository name (no namespace above it), and its actions must include the access the run needs
 * there: push on a target image, pull on a source.
 */
export function dockerConfigs(
  env: NodeJS.ProcessEnv,
  targets: readonly Repository[],
  warn: ConfigWarning,
): DockerConfigs {
  const main = readDockerConfig(env, warn);
  const isTarget = (repository: Repository) =>
    targets.some((t) => t.endpoint === repository.endpoint && t.path === repository.path);
  const chosen = new Map<string, { dir: string; config: DockerConfig } | undefined>();
  const scoped = (repository: Repository) => {
    const key = `${repository.endpoint}/${repository.path}`;
    if (!chosen.has(key)) {
      const action = isTarget(repository) ? 'push' : 'pull';
      chosen.set(key, firstConfig(scopedConfigDirs(env, repository, action), warn));
    }
    return chosen.get(key);
  };
  return {
    configsFor: (repository) =>
      [repository && scoped(repository)?.config, main].filter((c): c is DockerConfig => c !== undefined),
    loginOf: (repository) => scoped(repository)?.dir ?? '',
  };
}

function firstConfig(dirs: readonly string[], warn: ConfigWarning) {
  for (const dir of dirs) {
    const config = readConfigFile(join(dir, 'config.json'), warn);
    if (config) return { dir, config };
  }
  return undefined;
}

/**
 * The scoped folders that may hold a login for `action` on `repository`, most specific first:
 * `<registry>/<repository>@<actions>` (the fewest actions first), `<registry>/<repository>`, then the registry's own
 * `<registry>@<actions>` and `<registry>`. login-action writes `scope: org/app@push` to `…/org/app@push`.
 */
export function scopedConfigDirs(
  env: NodeJS.ProcessEnv,
  repository: Repository,
  action: 'pull' | 'push',
): string[] {
  const config = join(env['BUILDX_CONFIG'] || join(dockerDir(env), 'buildx'), 'config');
  const root = join(config, repository.endpoint);
  const slash = repository.path.lastIndexOf('/');
  const parent = slash < 0 ? root : join(root, repository.path.slice(0, slash));
  return [
    ...scopesIn(parent, repository.path.slice(slash + 1), action),
    ...scopesIn(config, repository.endpoint, action),
  ];
}

/** In `dir`, the folders `<name>@<actions>` whose actions include `action` (fewest first), then `<name>`. */
function scopesIn(dir: string, name: string, action: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const scopes = entries
    .filter((entry) => entry.startsWith(`${name}@`))
    .map((entry) => ({ entry, actions: entry.slice(name.length + 1).split(',') }))
    .filter(({ actions }) => actions.includes(action))
    .sort((a, b) => a.actions.length - b.actions.length || a.entry.localeCompare(b.entry))
    .map(({ entry }) => join(dir, entry));
  return entries.includes(name) ? [...scopes, join(dir, name)] : scopes;
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
