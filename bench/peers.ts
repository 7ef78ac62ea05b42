import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_ENTRY } from '../__tests__/helpers/action.js';
import { onPath } from '../__tests__/helpers/registry.js';
import type { Step } from './exec.js';

/** One merge to do: N digests already in `repository`, merged into `repository:tag`, all through `host`. */
export interface MergeJob {
  /** host:port of the latency proxy. */
  readonly host: string;
  readonly repository: string;
  /** A fresh tag per run, so every run writes (nothing is ever "already there"). */
  readonly tag: string;
  readonly digests: readonly string[];
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

/** `manifest-merge --image <proxy>/<repo> --tag <tag> --source <digest>...`: the bundled CLI. */
export const manifestMerge: Tool = {
  id: 'manifest-merge',
  label: 'manifest-merge (ours)',
  binary: undefined,
  missing: () => undefined,
  async plan(job) {
    const { dir, cleanup } = await tempDir('mm-bench-cli-');
    return {
      steps: [
        {
          command: process.execPath,
          args: [CLI_ENTRY, ...oursArgs(job)],
          // A clean environment, as the tests use: no credentials or Docker config of this machine.
          env: { PATH: process.env['PATH'] ?? '', HOME: dir },
        },
      ],
      cleanup,
    };
  },
};

export function oursArgs(job: MergeJob): string[] {
  return [
    '--image',
    `${job.host}/${job.repository}`,
    '--tag',
    job.tag,
    ...job.digests.flatMap((digest) => ['--source', digest]),
  ];
}

/** `docker manifest create --insecure` then `docker manifest push --insecure`, with a fresh DOCKER_CONFIG. */
export const dockerManifest: Tool = {
  id: 'docker',
  label: 'docker manifest',
  binary: 'docker',
  missing: () => (onPath('docker') ? undefined : 'docker is not on PATH'),
  async plan(job) {
    const { dir, cleanup } = await tempDir('mm-bench-docker-');
    // Older clients only offer `docker manifest` with experimental features on.
    await writeFile(join(dir, 'config.json'), '{"experimental":"enabled"}\n');
    const env = { ...process.env, DOCKER_CONFIG: dir };
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

export const TOOLS: readonly Tool[] = [manifestMerge, dockerManifest, buildahManifest];
