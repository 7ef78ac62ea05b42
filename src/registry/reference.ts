import { type Digest, parseDigest } from './digest.js';

/** A repository on a registry, e.g. `ghcr.io/org/app`. */
export interface Repository {
  /** The registry as users write it: `ghcr.io`, `docker.io`, `localhost:5000`. */
  readonly registry: string;
  /** The host (and port) the API is served on: `registry-1.docker.io` for Docker Hub. */
  readonly endpoint: string;
  /** The repository path inside the registry: `org/app`, `library/alpine`. */
  readonly path: string;
  /** How the user wrote it (trimmed), used in outputs so `ref` reads like the `image` input. */
  readonly display: string;
}

export interface Reference {
  readonly repository: Repository;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;

/** Docker's rule: the first component names a registry when it has a dot or a port, or is localhost. */
function looksLikeRegistry(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.startsWith('[')
  );
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Parses `ghcr.io/org/app`, `app` (Docker Hub), `localhost:5000/app`; throws naming `what` and an example. */
export function parseRepository(value: string, what = 'image'): Repository {
  const display = value.trim();
  const example = `e.g. ghcr.io/org/app, docker.io/library/app or localhost:5000/app`;
  if (display === '') throw new Error(`${what} is empty: give a repository, ${example}`);
  const noTag = `${what} "${display}" must be a repository without tag or digest (${example}); put tags in "tags"`;
  if (display.includes('@')) throw new Error(noTag);
  const parts = display.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && looksLikeRegistry(first)) {
    if (!HOST.test(first))
      throw new Error(`${what} "${display}" has an invalid registry host "${first}" (${example})`);
    registry = first.toLowerCase();
    parts.shift();
  }
  if (parts.some((part) => part.includes(':'))) throw new Error(noTag);
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_ENDPOINT) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      const hint = part !== part.toLowerCase() ? ': repository names must be lowercase' : '';
      throw new Error(`${what} "${display}" has an invalid path component "${part}"${hint} (${example})`);
    }
  }
  const path = parts.join('/');
  if (path.length > 255) throw new Error(`${what} "${display}" is longer than 255 characters`);
  return { registry, endpoint: registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry, path, display };
}

/** Parses `repo[:tag][@sha256:…]`. */
export function parseReference(value: string, what = 'reference'): Reference {
  const trimmed = value.trim();
  let rest = trimmed;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = parseDigest(rest.slice(at + 1), `${what} "${trimmed}": digest`);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) {
      throw new Error(
        `${what} "${trimmed}" has an invalid tag "${tag}": up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`,
      );
    }
  }
  const repository = parseRepository(rest, what);
  return { repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The canonical name, `docker.io/library/app`, used to compare repositories. */
export function canonicalName(repository: Repository): string {
  return `${repository.registry}/${repository.path}`;
}

export function sameRepository(a: Repository, b: Repository): boolean {
  return canonicalName(a) === canonicalName(b);
}

export function digestRef(repository: Repository, digest: Digest): string {
  return `${repository.display}@${digest}`;
}

export function tagRef(repository: Repository, tag: string): string {
  return `${repository.display}:${tag}`;
}
