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
const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

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
  const pair = entry.auth ? decodeAuth(entry.auth) : undefined;
  if (entry.identitytoken) {
    // Docker keeps the user of an identity token only inside `auth` (ACR: a zero GUID and no password).
    const username = entry.username || pair?.username;
    return { kind: 'identity-token', token: entry.identitytoken, ...(username ? { username } : {}) };
  }
  if (entry.username && entry.password)
    return { kind: 'basic', username: entry.username, password: entry.password };
  if (pair?.password) return { kind: 'basic', username: pair.username, password: pair.password };
  return undefined;
}

/** `auth` is base64 of `user:password`; the password may itself hold colons. */
function decodeAuth(auth: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

/** Reports a problem with the Docker config; the run goes on without the part concerned, as Docker's does. */
export type ConfigWarning = (message: string) => void;

type AuthEntry = NonNullable<DockerConfig['auths']>[string];
const AUTH_FIELDS = ['auth', 'username', 'password', 'identitytoken'] as const;

/**
 * Parses a config file's text. Docker only warns about a broken config, so a broken file or part is reported and
 * ignored. Warnings give a position at most, never file content: the file may hold credentials.
 */
export function parseDockerConfig(text: string, path: string, warn: ConfigWarning): DockerConfig | undefined {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message quotes the text around the error, so only its position is kept.
    warn(`the Docker config ${path} is not valid JSON${positionOf(error)}; it is ignored: fix or remove it`);
    return undefined;
  }
  if (!isRecord(parsed)) {
    warn(`the Docker config ${path} is not a JSON object; it is ignored: fix or remove it`);
    return undefined;
  }
  return checkedConfig(parsed, (part, expected) =>
    warn(`the Docker config ${path} has ${part} that is not ${expected}; it is ignored: fix it`),
  );
}

/** Says which part has the wrong JSON type and what it should be. */
type Problem = (part: string, expected: string) => void;

function checkedConfig(raw: Record<string, unknown>, problem: Problem): DockerConfig {
  const auths = recordOf(raw['auths'], '"auths"', authEntry, 'an object of strings', problem);
  const credHelpers = recordOf(raw['credHelpers'], '"credHelpers"', stringOf, 'a string', problem);
  const credsStore = raw['credsStore'];
  if (credsStore !== undefined && credsStore !== null && typeof credsStore !== 'string')
    problem('"credsStore"', 'a string');
  return {
    ...(auths ? { auths } : {}),
    ...(credHelpers ? { credHelpers } : {}),
    ...(typeof credsStore === 'string' ? { credsStore } : {}),
  };
}

/** An object whose entries `check` accepts; a wrong entry is left out, a wrong whole is undefined. */
function recordOf<T>(
  value: unknown,
  name: string,
  check: (entry: unknown) => T | undefined,
  expected: string,
  problem: Problem,
): Record<string, T> | undefined {
  // Docker (Go) reads a null as an empty map.
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    problem(name, 'a JSON object');
    return undefined;
  }
  const kept: [string, T][] = [];
  for (const [key, entry] of Object.entries(value)) {
    const checked = check(entry);
    if (checked === undefined) problem(`${name} entry ${JSON.stringify(key)}`, expected);
    else kept.push([key, checked]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  return Object.fromEntries(kept);
}

/** An `auths` entry with its credential fields as strings (null read as absent, as Go does); else undefined. */
function authEntry(value: unknown): AuthEntry | undefined {
  if (!isRecord(value)) return undefined;
  const entry: Record<string, string> = {};
  for (const field of AUTH_FIELDS) {
    const fieldValue = value[field];
    if (typeof fieldValue === 'string') entry[field] = fieldValue;
    else if (fieldValue !== undefined && fieldValue !== null) return undefined;
  }
  return entry;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** " (at line L, column C)" from a JSON.parse error when it gives one; its quote of the text is dropped. */
function positionOf(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const line = /\(line (\d+) column (\d+)\)/.exec(message);
  if (line) return ` (at line ${line[1]}, column ${line[2]})`;
  const position = /at position (\d+)/.exec(message);
  if (position) return ` (at position ${position[1]})`;
  return /end of JSON input/.test(message) ? ' (it ends too early)' : '';
}
