import type { Credential } from './registry/auth.js';
import { DOCKER_HUB } from './registry/reference.js';

/** The parts of a Docker client config (`~/.docker/config.json`) that hold credentials. */
export interface DockerConfig {
  readonly auths?: Readonly<
    Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>
  >;
  readonly credsStore?: string;
  readonly credHelpers?: Readonly<Record<string, string>>;
}

/** What `docker-credential-<helper> get` printed, or undefined when it has nothing for that server. */
export type HelperRunner = (
  helper: string,
  serverUrl: string,
) => Promise<{ readonly Username: string; readonly Secret: string } | undefined>;

/** The key Docker stores Docker Hub credentials under, for historical reasons. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

/** `https://ghcr.io/v2/` and `ghcr.io` name the same registry; Docker Hub has several names. */
function normalizeKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** The server URL a credential helper is asked about, as `docker login` stored it. */
export function serverUrlFor(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : registry;
}

function find<T>(record: Readonly<Record<string, T>> | undefined, registry: string): T | undefined {
  if (!record) return undefined;
  const key = Object.keys(record).find((k) => normalizeKey(k) === registry);
  return key === undefined ? undefined : record[key];
}

function fromHelperAnswer(answer: { Username: string; Secret: string }): Credential | undefined {
  if (!answer.Secret) return undefined;
  // A helper answering the user `<token>` hands out an identity (refresh) token, not a password.
  if (answer.Username === '<token>') return { kind: 'identity-token', token: answer.Secret };
  return { kind: 'basic', username: answer.Username, password: answer.Secret };
}

/**
 * Credentials for `registry` from a Docker config, in Docker's order: a per-registry `credHelpers` entry, then
 * the `credsStore`, then `auths` (base64 `auth`, `username`/`password`, `identitytoken`).
 */
export async function dockerConfigCredential(
  config: DockerConfig,
  registry: string,
  runHelper: HelperRunner,
): Promise<Credential | undefined> {
  const helper = find(config.credHelpers, registry) ?? config.credsStore;
  if (helper) {
    const answer = await runHelper(helper, serverUrlFor(registry));
    const credential = answer && fromHelperAnswer(answer);
    if (credential) return credential;
  }
  const entry = find(config.auths, registry);
  if (!entry) return undefined;
  if (entry.identitytoken) {
    return {
      kind: 'identity-token',
      token: entry.identitytoken,
      ...(entry.username ? { username: entry.username } : {}),
    };
  }
  if (entry.username && entry.password)
    return { kind: 'basic', username: entry.username, password: entry.password };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0)
      return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/** Parses a config file's text; a broken file is reported, not silently ignored. */
export function parseDockerConfig(text: string, path: string): DockerConfig {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return parsed as DockerConfig;
  } catch (error) {
    throw new Error(
      `the Docker config ${path} is not valid JSON (${(error as Error).message}): fix or remove it`,
    );
  }
}
