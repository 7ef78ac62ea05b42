import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPlatforms } from '../__tests__/helpers/fixtures.js';
import { MediaTypes, pushBlob, pushJsonManifest, served } from '../__tests__/helpers/images.js';
import { onPath, startRegistry, type TestRegistry } from '../__tests__/helpers/registry.js';
import { mustRun, type Step } from './exec.js';
import { formatMs, markdownTable, median, rotate } from './stats.js';

/**
 * The copy case: a generated multi-platform image of a few hundred MiB in one registry, brought into a second,
 * empty registry by the action (the platform images as sources in the other registry) and by `skopeo copy --all`
 * (the same image's index), runs interleaved. Each run gets a fresh target registry, so nothing is already there
 * and no client can mount from an earlier run (skopeo remembers where blobs live across runs). Measured: wall
 * time, peak RSS of the process (`/usr/bin/time -v`, the same for both), and the MiB the image's blobs hold,
 * which every run must move (the target serves the image afterwards, checked).
 */

export interface CopyOptions {
  readonly runs: number;
  readonly platforms: number;
  /** Layers per platform image, each `layerMib` of incompressible bytes. */
  readonly layers: number;
  readonly layerMib: number;
}

export interface CopySample {
  readonly ms: number;
  readonly maxRssKib: number;
}

export interface CopyResult {
  readonly label: string;
  readonly samples: readonly CopySample[];
  readonly error: string | undefined;
}

export interface CopyRun {
  readonly options: CopyOptions;
  /** The bytes of every blob of the image: what each run moves. */
  readonly bytes: number;
  readonly blobs: number;
  readonly results: readonly CopyResult[];
}

interface CopyTool {
  readonly id: string;
  readonly label: string;
  missing(): string | undefined;
  step(job: CopyJob, dir: string): Step;
}

interface CopyJob {
  readonly source: TestRegistry;
  readonly target: TestRegistry;
  /** The image in the source registry: its index under `tag`, its platform manifests by digest. */
  readonly repository: string;
  readonly tag: string;
  readonly platformDigests: readonly string[];
  /** Where the copy goes in the target registry. */
  readonly into: string;
}

const TIME = '/usr/bin/time';

/** The action as the runner starts it, the platform images as sources in the other registry. */
function actionTool(entry: string): CopyTool {
  return {
    id: 'action',
    label: 'manifest-merge action',
    missing: () => undefined,
    step(job, dir) {
      return timed(process.execPath, [entry], {
        PATH: process.env['PATH'] ?? '',
        HOME: dir,
        TMPDIR: dir,
        RUNNER_TEMP: dir,
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: join(dir, 'output'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        INPUT_IMAGE: `${job.target.host}/${job.into}`,
        INPUT_TAGS: job.tag,
        INPUT_SOURCES: job.platformDigests.map((d) => `${job.source.host}/${job.repository}@${d}`).join('\n'),
      });
    },
  };
}

const skopeoTool: CopyTool = {
  id: 'skopeo',
  label: 'skopeo copy --all',
  missing: () => (onPath('skopeo') ? undefined : 'skopeo is not on PATH (apt-get install -y skopeo)'),
  step(job, dir) {
    return timed(
      'skopeo',
      [
        'copy',
        '--all',
        '--quiet',
        '--authfile',
        join(dir, 'auth.json'),
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        `docker://${job.source.host}/${job.repository}:${job.tag}`,
        `docker://${job.target.host}/${job.into}:${job.tag}`,
      ],
      { ...process.env, HOME: dir, TMPDIR: dir },
    );
  },
};

/** `command` under `/usr/bin/time -v`, which reports the peak RSS on stderr. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv): Step {
  return { command: TIME, args: ['-v', command, ...args], env };
}

/** Peak RSS in KiB from `/usr/bin/time -v` output. */
export function maxRssKib(stderr: string): number {
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  if (!match) throw new Error(`no "Maximum resident set size" in the output of ${TIME} -v`);
  return Number(match[1]);
}

/** Pushes the image: per platform `layers` random layers and a config, the manifests by digest, an index tagged. */
async function pushLargeImage(
  reg: TestRegistry,
  repository: string,
  options: CopyOptions,
): Promise<{ platformDigests: string[]; bytes: number; blobs: number }> {
  const platformDigests: string[] = [];
  const index: object[] = [];
  let bytes = 0;
  let blobs = 0;
  for (const platform of benchPlatforms(options.platforms)) {
    const layers: { mediaType: string; digest: string; size: number }[] = [];
    for (let i = 0; i < options.layers; i++) {
      // One layer in memory at a time, in the bench's own process (not the one measured).
      const layer = randomBytes(options.layerMib * 1024 * 1024);
      layers.push({
        mediaType: MediaTypes.ociLayer,
        digest: await pushBlob(reg, repository, layer),
        size: layer.length,
      });
    }
    const config = Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
        config: {},
      }),
    );
    const configDigest = await pushBlob(reg, repository, config);
    bytes += config.length + layers.reduce((sum, l) => sum + l.size, 0);
    blobs += 1 + layers.length;
    const manifest = await pushJsonManifest(
      reg,
      repository,
      {
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length },
        layers,
      },
      MediaTypes.ociManifest,
    );
    platformDigests.push(manifest.digest);
    index.push({ mediaType: MediaTypes.ociManifest, digest: manifest.digest, size: manifest.size, platform });
  }
  await pushJsonManifest(
    reg,
    repository,
    { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: index },
    MediaTypes.ociIndex,
    'v1',
  );
  return { platformDigests, bytes, blobs };
}

/** Runs the copy case: generate, then per run every tool once into a fresh target registry, order rotating. */
export async function copyCase(
  options: CopyOptions,
  actionEntry: string,
  progress: (line: string) => void,
): Promise<CopyRun> {
  const tools: CopyTool[] = [];
  const results = new Map<CopyTool, { samples: CopySample[]; error: string | undefined }>();
  for (const tool of [actionTool(actionEntry), skopeoTool]) {
    const missing = tool.missing();
    results.set(tool, { samples: [], error: missing });
    if (missing === undefined) tools.push(tool);
    else progress(`copy: ${tool.label} skipped, ${missing}`);
  }
  if (!existsSync(TIME))
    throw new Error(`${TIME} is missing (apt-get install -y time): it measures the peak RSS`);
  const source = await startRegistry();
  try {
    const repository = 'bench/large';
    const total = options.platforms * options.layers * options.layerMib;
    progress(
      `copy: pushing ${options.platforms} platforms x ${options.layers} layers x ${options.layerMib} MiB (${total} MiB)`,
    );
    const image = await pushLargeImage(source, repository, options);
    for (let r = 1; r <= options.runs; r++) {
      const line: string[] = [];
      for (const tool of rotate(tools, r - 1)) {
        const result = results.get(tool);
        if (!result || result.error !== undefined) continue;
        const job: CopyJob = {
          source,
          target: source,
          repository,
          tag: 'v1',
          platformDigests: image.platformDigests,
          into: `copy/${tool.id}`,
        };
        try {
          const sample = await copyOnce(job, tool);
          result.samples.push(sample);
          line.push(
            `${tool.id} ${formatMs(sample.ms)} ms, ${Math.round(sample.maxRssKib / 1024)} MiB peak RSS`,
          );
        } catch (error) {
          result.error = error instanceof Error ? error.message : String(error);
          progress(`copy: ${tool.label} failed, left out:\n${result.error}`);
        }
      }
      progress(`copy run ${r}/${options.runs}: ${line.join('; ')}`);
    }
    return {
      options,
      bytes: image.bytes,
      blobs: image.blobs,
      results: [...results].map(([tool, r]) => ({ label: tool.label, samples: r.samples, error: r.error })),
    };
  } finally {
    await source.stop();
  }
}

/** One copy into a fresh, empty target registry; checks the target then serves the image. */
async function copyOnce(job: CopyJob, tool: CopyTool): Promise<CopySample> {
  const target = await startRegistry();
  const dir = await mkdtemp(join(tmpdir(), `mm-bench-copy-${tool.id}-`));
  try {
    await Promise.all([
      writeFile(join(dir, 'auth.json'), '{"auths":{}}\n'),
      writeFile(join(dir, 'output'), ''),
      writeFile(join(dir, 'summary'), ''),
    ]);
    const step = tool.step({ ...job, target }, dir);
    const started = performance.now();
    const exit = await mustRun(step);
    const ms = performance.now() - started;
    if ((await served(target, job.into, job.tag)) === null) {
      throw new Error(`${tool.label} exited 0, but ${target.host}/${job.into}:${job.tag} is not served`);
    }
    const stored = await blobBytes(target.storageDir);
    const expected = await blobBytes(job.source.storageDir);
    if (stored < expected) {
      throw new Error(`${tool.label}: the target holds ${stored} bytes of blobs, the source ${expected}`);
    }
    return { ms, maxRssKib: maxRssKib(exit.stderr) };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await target.stop();
  }
}

/** The bytes of every blob a registry stores (its data files), for checking a copy moved them all. */
async function blobBytes(storageDir: string): Promise<number> {
  const root = join(storageDir, 'docker', 'registry', 'v2', 'blobs');
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name === 'data') total += (await stat(path)).size;
    }
  };
  await walk(root);
  return total;
}

/** The copy case as Markdown: a table per tool, and the speed and memory targets. */
export function copyReport(run: CopyRun): string {
  const mib = run.bytes / 1024 / 1024;
  const { options } = run;
  const rows = run.results.map((result) => {
    if (result.samples.length === 0) return [result.label, 'failed', '-', '-', '-'];
    const ms = median(result.samples.map((s) => s.ms));
    const rss = result.samples.map((s) => s.maxRssKib / 1024);
    return [
      result.label,
      formatMs(ms),
      `${Math.round(median(rss))} (${Math.round(Math.min(...rss))}-${Math.round(Math.max(...rss))})`,
      mib.toFixed(0),
      ((mib / ms) * 1000).toFixed(0),
    ];
  });
  const lines = [
    `Copy into a second registry: ${options.platforms} platforms x ${options.layers} layers x ${options.layerMib} MiB ` +
      `(${run.blobs} blobs, ${mib.toFixed(0)} MiB), a fresh empty target registry per run, median of ${options.runs}:`,
    '',
    markdownTable(
      ['tool', 'median ms', 'peak RSS MiB (min-max)', 'MiB moved', 'MiB/s'],
      rows,
      new Set([1, 2, 3, 4]),
    ),
    '',
  ];
  for (const result of run.results) {
    if (result.error !== undefined) lines.push(`${result.label}: ${result.error.split('\n')[0]}`, '');
  }
  return lines.join('\n');
}

/** The copy targets (issue: speed where the real work is), each met or missed. */
export function copyTargets(run: CopyRun, targets: { speedup: number; maxRssMib: number }): string[] {
  const [ours, skopeo] = run.results;
  const out: string[] = [];
  const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  if (!ours || ours.samples.length === 0) return out;
  const ms = median(ours.samples.map((s) => s.ms));
  const rss = Math.max(...ours.samples.map((s) => s.maxRssKib / 1024));
  out.push(
    `- copy of ${(run.bytes / 1024 / 1024).toFixed(0)} MiB (${run.options.layerMib} MiB layers): peak RSS at most ${rss.toFixed(0)} MiB over every run (at most ${targets.maxRssMib} MiB): ${mark(rss <= targets.maxRssMib)}`,
  );
  if (skopeo && skopeo.samples.length > 0) {
    const factor = median(skopeo.samples.map((s) => s.ms)) / ms;
    out.push(
      `- copy: ${factor.toFixed(2)}x faster than skopeo copy --all (at least ${targets.speedup}x): ${mark(factor >= targets.speedup)}`,
    );
  }
  return out;
}
