import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath } from '../__tests__/helpers/registry.js';
import type { Step } from './exec.js';

/** One merge to do: N digests already in `repository`, merged into `repository:tag`, all through `host`. */
export interface MergeJob {
  /** host:port of the latency proxy. */
  readonly host: string;
  readonly repository: string;
  /** Further target repositories on the same registry (several images), after `repository`, the primary. */
  readonly more?: readonly string[];
  /** A fresh tag per run, so every run writes (nothing is ever "already there"). */
  readonly tag: string;
  readonly digests: readonly string[];
  /** Credentials for the registry (the TLS + Bearer case), else none. */
  readonly login?: { readonly username: string; readonly password: string };
  /** A TLS registry: the CA file its certificate is signed with (the TLS + Bearer case), else plain HTTP. */
  readonly caPath?: string;
}

/** The commands of one merge, in order, and what to remove afterwards (not timed). */
export interface Plan {
  readonly steps: readonly Step[];
  cleanup(): Promise<void>;
}

export interface Tool {
  readonly id: string;
  readonly label: string;
  /** The peer's executable (for its version), or undefined for ours. */
  readonly binary: string | undefined;
  /** Why the tool cannot run here, or undefined. */
  missing(): string | undefined;
  /** Fresh state per run: temp config and storage are made here and removed by `cleanup`. */
  plan(job: MergeJob): Promise<Plan>;
}

async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function images(job: MergeJob): string[] {
  return [job.repository, ...(job.more ?? [])].map((repository) => `${job.host}/${repository}`);
}

/** `manifest-merge --image <proxy>/<repo> --tag <tag> --source <digest>...`: the bundled CLI at `entry`. */
export function manifestMergeCli(entry: string): Tool {
  return {
    id: 'cli',
    label: 'manifest-merge CLI',
    binary: undefined,
    missing: () => undefined,
    async plan(job) {
      const { dir, cleanup } = await tempDir('mm-bench-cli-');
      return {
        steps: [
          {
            command: process.execPath,
            args: [entry, ...oursArgs(job)],
            // A clean environment, as the tests use: no credentials or Docker config of this machine.
            env: { PATH: process.env['PATH'] ?? '', HOME: dir },
          },
        ],
        cleanup,
      };
    },
  };
}

export function oursArgs(job: MergeJob): string[] {
  return [
    ...images(job).flatMap((image) => ['--image', image]),
    '--tag',
    job.tag,
    ...job.digests.flatMap((digest) => ['--source', digest]),
  ];
}

/**
 * The action as a GitHub runner runs it: `node <entry>` (dist/index.js) with the inputs as INPUT_* variables,
 * the command files in a fresh temp dir (RUNNER_TEMP, HOME and TMPDIR too, as on a fresh runner), a clean
 * environment otherwise.
 */
export function manifestMergeAction(entry: string): Tool {
  return {
    id: 'action',
    label: 'manifest-merge action',
    binary: undefined,
    missing: () => undefined,
    async plan(job) {
      const { dir, cleanup } = await tempDir('mm-bench-action-');
      const output = join(dir, 'output');
      const summary = join(dir, 'summary');
      await Promise.all([writeFile(output, ''), writeFile(summary, '')]);
      return {
        steps: [
          {
            command: process.execPath,
            args: [entry],
            env: {
              PATH: process.env['PATH'] ?? '',
              HOME: dir,
              TMPDIR: dir,
              RUNNER_TEMP: dir,
              GITHUB_ACTIONS: 'true',
              GITHUB_OUTPUT: output,
              GITHUB_STEP_SUMMARY: summary,
              INPUT_IMAGE: images(job).join('\n'),
              INPUT_TAGS: job.tag,
              INPUT_SOURCES: job.digests.join('\n'),
              ...(job.login
                ? { INPUT_USERNAME: job.login.username, INPUT_PASSWORD: job.login.password }
                : {}),
              // A loopback registry is taken for plain HTTP unless told; the CA as a runner's would be trusted.
              ...(job.caPath ? { 'INPUT_PLAIN-HTTP': 'false', NODE_EXTRA_CA_CERTS: job.caPath } : {}),
            },
          },
        ],
        cleanup,
      };
    },
  };
}

/** Bare Node: `node -e 0`, the start-up every Node program pays, for the floor. */
export const bareNode: Plan = {
  steps: [{ command: process.execPath, args: ['-e', '0'], env: { PATH: process.env['PATH'] ?? '' } }],
  cleanup: async () => {},
};

/** `docker manifest create --insecure` then `docker manifest push --insecure`, with a fresh DOCKER_CONFIG. */
export const dockerManifest: Tool = {
  id: 'docker',
  label: 'docker manifest',
  binary: 'docker',
  missing: () => (onPath('docker') ? undefined : 'docker is not on PATH'),
  async plan(job) {
    const { dir, cleanup } = await tempDir('mm-bench-docker-');
    // Older clients only offer `docker manifest` with experimental features on. Credentials as `docker login`
    // leaves them (written here: login would ask a daemon).
    const auth = job.login && Buffer.from(`${job.login.username}:${job.login.password}`).toString('base64');
    const config = { experimental: 'enabled', ...(auth ? { auths: { [job.host]: { auth } } } : {}) };
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(config)}\n`);
    // A CA (for a TLS token server) is trusted through Go's SSL_CERT_FILE, as the system's roots would be.
    const env = { ...process.env, DOCKER_CONFIG: dir, ...(job.caPath ? { SSL_CERT_FILE: job.caPath } : {}) };
    const target = `${job.host}/${job.repository}:${job.tag}`;
    const sources = job.digests.map((digest) => `${job.host}/${job.repository}@${digest}`);
    return {
      steps: [
        { command: 'docker', args: ['manifest', 'create', '--insecure', target, ...sources], env },
        { command: 'docker', args: ['manifest', 'push', '--insecure', target], env },
      ],
      cleanup,
    };
  },
};

/**
 * `buildah manifest create`, one `manifest add` per source, then `manifest push --all`. Storage lives in a
 * fresh temp dir with the vfs driver, so it works as root without a daemon and every run starts empty.
 */
export const buildahManifest: Tool = {
  id: 'buildah',
  label: 'buildah manifest',
  binary: 'buildah',
  missing: () => (onPath('buildah') ? undefined : 'buildah is not on PATH (apt-get install -y buildah)'),
  async plan(job) {
    const { dir, cleanup } = await tempDir('mm-bench-buildah-');
    const global = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
    // An (empty) auth file of its own, so no credentials of this machine are used.
    const authFile = join(dir, 'auth.json');
    await writeFile(authFile, '{"auths":{}}\n');
    const env = { ...process.env, REGISTRY_AUTH_FILE: authFile };
    const list = 'bench-list';
    const step = (...args: string[]): Step => ({ command: 'buildah', args: [...global, ...args], env });
    return {
      steps: [
        step('manifest', 'create', list),
        ...job.digests.map((digest) =>
          step(
            'manifest',
            'add',
            '--tls-verify=false',
            list,
            `docker://${job.host}/${job.repository}@${digest}`,
          ),
        ),
        step(
          'manifest',
          'push',
          '--tls-verify=false',
          '--all',
          list,
          `docker://${job.host}/${job.repository}:${job.tag}`,
        ),
      ],
      cleanup,
    };
  },
};

/** The peers, in the order they are listed. */
export const PEERS: readonly Tool[] = [dockerManifest, buildahManifest];
