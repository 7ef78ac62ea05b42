import { cpus, platform as osPlatform } from 'node:os';
import { pushSources } from '../__tests__/helpers/fixtures.js';
import { startProxy, type TestProxy } from '../__tests__/helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../__tests__/helpers/registry.js';
import { type BenchOptions, parseBenchArgs, USAGE } from './args.js';
import { runStep } from './exec.js';
import { measureFirstRequest, measureMerge, type Phases, type Sample } from './measure.js';
import { manifestMerge, TOOLS, type Tool } from './peers.js';
import { actionPlan, type BundleSize, bundleSizes } from './startup.js';
import { countRange, formatBytes, formatMs, markdownTable, median, speedup } from './stats.js';

/**
 * `npm run bench`: manifest-merge against `docker manifest` and `buildah manifest`, merging the same N
 * per-platform images through the same latency proxy in the same session, runs interleaved. Progress goes
 * to stderr, the report (Markdown) to stdout.
 */

const TARGETS = {
  roundTrips: 4,
  speedup: new Map([
    [8, 4],
    [32, 10],
  ]),
  startupMs: 150,
} as const;

interface Result {
  readonly n: number;
  readonly tool: Tool;
  readonly samples: readonly Sample[];
  readonly error: string | undefined;
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${message(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sizes = await bundleSizes();
  const tools: Tool[] = [];
  const skipped: string[] = [];
  for (const tool of TOOLS) {
    const missing = tool.missing();
    if (missing === undefined) tools.push(tool);
    else skipped.push(`${tool.label}: skipped, ${missing}`);
  }
  const versions = await Promise.all([
    version('docker-registry', ['--version']),
    ...tools.flatMap((t) => (t.binary === undefined ? [] : [version(t.binary, ['--version'])])),
  ]);

  const registry = await startRegistry();
  let proxy: TestProxy | undefined;
  try {
    proxy = await startProxy(registry.url, { latencyMs: options.latencyMs });
    const results = await compare(registry, proxy, tools, options);
    const startup = await measureStartup(registry, proxy, options);
    process.stdout.write(report(options, versions, skipped, results, startup, sizes));
  } finally {
    await proxy?.close();
    await registry.stop();
  }
  return 0;
}

/** For each N: push the sources once, then every tool once per run, in an order that rotates per run. */
async function compare(
  registry: TestRegistry,
  proxy: TestProxy,
  tools: readonly Tool[],
  options: BenchOptions,
): Promise<Result[]> {
  const results: Result[] = [];
  for (const n of options.sizes) {
    const repository = `bench/n${n}`;
    progress(`N=${n}: pushing ${n} images by digest (directly, not through the proxy)`);
    const digests = await pushSources(registry, repository, n);
    const samples = new Map<Tool, Sample[]>(tools.map((tool) => [tool, []]));
    const errors = new Map<Tool, string>();
    for (let run = 1; run <= options.runs; run++) {
      const line: string[] = [];
      for (const tool of rotate(tools, run - 1)) {
        if (errors.has(tool)) continue;
        // A fresh tag per run and tool: every run writes, nothing is "already there".
        const job = { host: proxy.host, repository, tag: `${tool.id}-r${run}`, digests };
        try {
          const sample = await measureMerge(proxy, tool, job);
          samples.get(tool)?.push(sample);
          line.push(`${tool.id} ${formatMs(sample.ms)} ms`);
        } catch (error) {
          errors.set(tool, message(error));
          progress(`N=${n}: ${tool.label} failed, left out for this N:\n${message(error)}`);
        }
      }
      progress(`N=${n} run ${run}/${options.runs}: ${line.join(', ')}`);
    }
    for (const tool of tools) {
      results.push({ n, tool, samples: samples.get(tool) ?? [], error: errors.get(tool) });
    }
  }
  return results;
}

interface Startup {
  readonly label: string;
  readonly ms: number[];
  readonly error: string | undefined;
}

/** Spawn to first request, for the CLI and the action, on a small merge (2 sources). */
async function measureStartup(
  registry: TestRegistry,
  proxy: TestProxy,
  options: BenchOptions,
): Promise<Startup[]> {
  const repository = 'bench/startup';
  const digests = await pushSources(registry, repository, 2);
  const entries = [
    { label: 'node dist/cli/index.js', id: 'cli', plan: manifestMerge.plan },
    { label: 'node dist/index.js (action)', id: 'action', plan: actionPlan },
  ];
  const out: Startup[] = [];
  for (const entry of entries) {
    const ms: number[] = [];
    let error: string | undefined;
    for (let run = 1; run <= options.runs && error === undefined; run++) {
      const job = { host: proxy.host, repository, tag: `startup-${entry.id}-r${run}`, digests };
      try {
        ms.push(await measureFirstRequest(proxy, await entry.plan(job)));
      } catch (caught) {
        error = message(caught);
        progress(`start-up of ${entry.label} failed:\n${error}`);
      }
    }
    progress(`start-up ${entry.label}: ${ms.map(formatMs).join(', ')} ms`);
    out.push({ label: entry.label, ms, error });
  }
  return out;
}

function report(
  options: BenchOptions,
  versions: readonly string[],
  skipped: readonly string[],
  results: readonly Result[],
  startup: readonly Startup[],
  sizes: readonly BundleSize[],
): string {
  const cpu = cpus();
  const lines: string[] = [
    `manifest-merge benchmark, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `- machine: ${osPlatform()} ${process.arch}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`,
    `- ${options.latencyMs} ms added to every response by the proxy; median of ${options.runs} runs per tool and N, runs interleaved`,
    ...versions.map((v) => `- ${v}`),
    ...skipped.map((s) => `- ${s}`),
    '',
  ];

  const rows: string[][] = [];
  for (const result of results) {
    const ours = results.find((r) => r.n === result.n && r.tool === manifestMerge);
    const base = [String(result.n), `${options.latencyMs} ms`, result.tool.label];
    if (result.samples.length === 0) {
      rows.push([...base, 'failed', '-', '-', '-']);
      continue;
    }
    const ms = median(result.samples.map((s) => s.ms));
    const oursMs = ours && ours.samples.length > 0 ? median(ours.samples.map((s) => s.ms)) : undefined;
    rows.push([
      ...base,
      formatMs(ms),
      countRange(result.samples.map((s) => s.requests)),
      countRange(result.samples.map((s) => s.roundTrips)),
      result.tool === manifestMerge ? '1.0x' : oursMs === undefined ? '-' : speedup(ms, oursMs),
    ]);
  }
  lines.push(
    markdownTable(
      ['N', 'latency', 'tool', 'median ms', 'requests', 'round trips', 'speedup vs ours'],
      rows,
      new Set([0, 1, 3, 4, 5, 6]),
    ),
    '',
  );
  for (const result of results) {
    if (result.error !== undefined)
      lines.push(`${result.tool.label} failed at N=${result.n}:`, result.error, '');
  }

  lines.push(
    'Where the time goes (medians, ms): before the first request (process start-up), with requests in flight,',
    'between requests (client work, waits), after the last response (exit):',
    '',
    markdownTable(
      ['N', 'tool', 'before first', 'in flight', 'between', 'after last'],
      results.filter((r) => r.samples.length > 0).map((r) => phaseRow(r)),
      new Set([0, 2, 3, 4, 5]),
    ),
    '',
  );

  lines.push(`Start-up, spawn to first request (median of ${options.runs}):`, '');
  for (const entry of startup) {
    const figure = entry.ms.length > 0 ? `${formatMs(median(entry.ms))} ms` : 'failed';
    lines.push(
      `- ${entry.label}: ${figure}${entry.error === undefined ? '' : ` (${entry.error.split('\n')[0]})`}`,
    );
  }
  lines.push('', 'Bundle sizes:', '');
  for (const size of sizes) lines.push(`- ${size.path}: ${formatBytes(size.bytes)}`);
  lines.push('', 'Targets:', '', ...targets(results, startup), '');
  return `${lines.join('\n')}\n`;
}

function phaseRow(result: Result): string[] {
  const of = (pick: (p: Phases) => number): string =>
    formatMs(median(result.samples.map((s) => pick(s.phases))));
  return [
    String(result.n),
    result.tool.label,
    of((p) => p.beforeFirstMs),
    of((p) => p.inFlightMs),
    of((p) => p.betweenMs),
    of((p) => p.afterLastMs),
  ];
}

/** The issue's targets, each marked met or missed. */
function targets(results: readonly Result[], startup: readonly Startup[]): string[] {
  const out: string[] = [];
  const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  for (const result of results) {
    if (result.tool !== manifestMerge || result.samples.length === 0) continue;
    const worst = Math.max(...result.samples.map((s) => s.roundTrips));
    out.push(
      `- N=${result.n}: round trips ${worst} (at most ${TARGETS.roundTrips}): ${mark(worst <= TARGETS.roundTrips)}`,
    );
    const factor = TARGETS.speedup.get(result.n);
    if (factor === undefined) continue;
    const oursMs = median(result.samples.map((s) => s.ms));
    for (const peer of results) {
      if (peer.n !== result.n || peer.tool === manifestMerge || peer.samples.length === 0) continue;
      const ratio = median(peer.samples.map((s) => s.ms)) / oursMs;
      out.push(
        `- N=${result.n}: ${ratio.toFixed(1)}x faster than ${peer.tool.label} (at least ${factor}x): ${mark(ratio >= factor)}`,
      );
    }
  }
  for (const entry of startup) {
    if (entry.ms.length === 0) continue;
    const ms = median(entry.ms);
    out.push(
      `- start-up of ${entry.label}: ${formatMs(ms)} ms (under ${TARGETS.startupMs} ms): ${mark(ms < TARGETS.startupMs)}`,
    );
  }
  return out;
}

/** `items` rotated left by `by`, so each tool takes each position in turn across runs. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function version(command: string, args: string[]): Promise<string> {
  try {
    const exit = await runStep({ command, args, env: process.env });
    return (exit.stdout || exit.stderr).trim().split('\n')[0] ?? command;
  } catch (error) {
    return `${command}: ${message(error)}`;
  }
}

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

process.exitCode = await main();
