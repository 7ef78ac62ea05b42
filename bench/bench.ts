import { cpus, platform as osPlatform } from 'node:os';
import { pushSources } from '../__tests__/helpers/fixtures.js';
import { lockstep } from '../__tests__/helpers/lockstep.js';
import { startProxy, type TestProxy } from '../__tests__/helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../__tests__/helpers/registry.js';
import { type BenchOptions, parseBenchArgs, USAGE } from './args.js';
import { type CopyRun, copyCase, copyReport, copyTargets } from './copy.js';
import { runStep } from './exec.js';
import {
  measureExit,
  measureFirstRequest,
  measureMerge,
  type RoundMap,
  roundMap,
  type Sample,
} from './measure.js';
import { bareNode, type MergeJob, manifestMergeAction, manifestMergeCli, PEERS, type Tool } from './peers.js';
import {
  breakdownTable,
  comparisonTable,
  largestGap,
  medianBreakdown,
  medianMs,
  phasesTable,
  type Result,
  worstRounds,
} from './report.js';
import { type BundleSize, bundleSizes, bundlesIn } from './startup.js';
import { countRange, formatBytes, formatMs, markdownTable, median, rotate } from './stats.js';
import { type TlsRun, tlsCase, tlsReport, tlsTargets } from './tls.js';

/**
 * `npm run bench`: manifest-merge, as the runner runs the action and as the CLI, against `docker manifest` and
 * `buildah manifest`, merging the same N per-platform images through the same latency proxy in the same session,
 * runs interleaved with bare Node start-ups (the floor). Progress goes to stderr, the report (Markdown) to stdout.
 */

/** The targets of the benchmark issues (#16, then "speed where the real work is"). */
const TARGETS = {
  /** Sequential rounds on an open registry, by N (4 for one image, ADR 0008). */
  roundTrips: new Map([
    [8, 4],
    [32, 5],
  ]),
  /** At least this many times faster than each peer, by N. */
  speedup: new Map([
    [8, 3],
    [32, 8],
  ]),
  /** At most this multiple of the limit: bare `node -e 0` plus each round's slowest request as the proxy timed it. */
  floorFactor: 1.4,
  /** Start-up to the first request at most this much above bare Node's start-up. */
  startupOverBareMs: 40,
  /** The largest gap between two rounds at N = gapN. */
  gapMs: 10,
  gapN: 32,
  /** Several images on one registry: at most this many rounds more than one image (mounts, then manifests). */
  moreImagesRounds: 2,
  /** TLS + Bearer, against docker manifest; rounds include the challenge and the token. */
  tls: {
    speedup: new Map([
      [8, 3],
      [32, 8],
    ]),
    rounds: new Map([
      [8, 6],
      [32, 7],
    ]),
    tokenRequests: 1,
    /** TLS handshakes at most N plus this. */
    handshakesOverN: 2,
  },
  /** Copy into a second registry: against skopeo copy --all, and the peak RSS of the action. */
  copy: { speedup: 1.5, maxRssMib: 128 },
} as const;

interface Startup {
  readonly label: string;
  readonly ms: number[];
  readonly error: string | undefined;
}

interface Run {
  readonly options: BenchOptions;
  readonly action: Tool;
  readonly cli: Tool;
  readonly registry: TestRegistry;
  readonly proxy: TestProxy;
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
  const sizes = await bundleSizes(options.dist);
  const bundles = bundlesIn(options.dist);
  const action = manifestMergeAction(bundles.action);
  const cli = manifestMergeCli(bundles.cli);
  const peers: Tool[] = [];
  const skipped: string[] = [];
  for (const tool of PEERS) {
    const missing = tool.missing();
    if (missing === undefined) peers.push(tool);
    else skipped.push(`${tool.label}: skipped, ${missing}`);
  }
  for (const line of skipped) progress(line);
  const versions = await Promise.all([
    version('docker-registry', ['--version']),
    ...peers.flatMap((t) => (t.binary === undefined ? [] : [version(t.binary, ['--version'])])),
  ]);

  const { cases } = options;
  const registry = await startRegistry();
  let proxy: TestProxy | undefined;
  try {
    proxy = await startProxy(registry.url, { latencyMs: options.latencyMs });
    const run: Run = { options, action, cli, registry, proxy };
    const { results, bare } = cases.has('merge')
      ? await compare(run, peers)
      : { results: [], bare: new Map() };
    const several = cases.has('images') ? await severalImages(run) : [];
    const startup = cases.has('startup') ? await measureStartup(run) : [];
    const tls = cases.has('tls') ? await tlsCase(options, bundles.action, peers, progress) : undefined;
    const copy = cases.has('copy') ? await copyCase(options.copy, bundles.action, progress) : undefined;
    process.stdout.write(
      report(run, { versions, skipped, results, bare, several, startup, sizes, tls, copy }),
    );
  } finally {
    await proxy?.close();
    await registry.stop();
  }
  return 0;
}

/** How long the lockstep proxy waits for more requests before it answers a round (as the round-trip test). */
const LOCKSTEP_QUIET_MS = 250;

/**
 * One more, untimed, run of `tool` through a proxy that answers in lockstep rounds (__tests__/helpers/lockstep.ts):
 * its exact number of sequential rounds and the round of each request, which timing alone can only bound (a
 * request that happens to start after an unrelated one ended counts as a round later).
 */
async function lockstepRounds(
  run: Run,
  tool: Tool,
  job: MergeJob,
): Promise<{ rounds: number; map: RoundMap } | undefined> {
  run.proxy.setHandler(lockstep({ quietMs: LOCKSTEP_QUIET_MS }).handler);
  try {
    const sample = await measureMerge(run.proxy, tool, job);
    return { rounds: sample.roundTrips, map: roundMap(sample) };
  } catch (error) {
    progress(`${tool.label}, counting rounds in lockstep, failed:\n${message(error)}`);
    return undefined;
  } finally {
    run.proxy.setHandler(undefined);
  }
}

/**
 * For each N: push the sources once, then per run a bare Node start-up and every tool once, in an order that
 * rotates per run. Bare start-ups per N give that N's floor, measured under the same load as the tools. Then the
 * action's rounds, counted in lockstep.
 */
async function compare(run: Run, peers: readonly Tool[]) {
  const { options, proxy, registry } = run;
  const tools = [run.action, run.cli, ...peers];
  const results: Result[] = [];
  const bare = new Map<number, number[]>();
  for (const n of options.sizes) {
    const repository = `bench/n${n}`;
    progress(`N=${n}: pushing ${n} images by digest (directly, not through the proxy)`);
    const digests = await pushSources(registry, repository, n);
    const samples = new Map<Tool, Sample[]>(tools.map((tool) => [tool, []]));
    const errors = new Map<Tool, string>();
    const bareMs: number[] = [];
    for (let r = 1; r <= options.runs; r++) {
      bareMs.push(await measureExit(bareNode));
      const line = [`node -e 0 ${formatMs(bareMs.at(-1) ?? 0)} ms`];
      for (const tool of rotate(tools, r - 1)) {
        if (errors.has(tool)) continue;
        // A fresh tag per run and tool: every run writes, nothing is "already there".
        const job = { host: proxy.host, repository, tag: `${tool.id}-r${r}`, digests };
        try {
          const sample = await measureMerge(proxy, tool, job);
          samples.get(tool)?.push(sample);
          line.push(`${tool.id} ${formatMs(sample.ms)} ms`);
        } catch (error) {
          errors.set(tool, message(error));
          progress(`N=${n}: ${tool.label} failed, left out for this N:\n${message(error)}`);
        }
      }
      progress(`N=${n} run ${r}/${options.runs}: ${line.join(', ')}`);
    }
    bare.set(n, bareMs);
    const job = { host: proxy.host, repository, tag: 'lockstep', digests };
    const counted = await lockstepRounds(run, run.action, job);
    progress(`N=${n}: ${counted?.rounds ?? '?'} rounds in lockstep`);
    for (const tool of tools) {
      const ours = tool === run.action || tool === run.cli;
      results.push({
        n,
        tool,
        samples: samples.get(tool) ?? [],
        error: errors.get(tool),
        // Counted for the action; the CLI makes the same requests, so it has the same rounds.
        rounds: ours ? counted?.rounds : undefined,
        roundMap: ours ? counted?.map : undefined,
      });
    }
  }
  return { results, bare };
}

/** The action merging the same sources into K images on one registry; fresh images per run (all mounted anew). */
async function severalImages(run: Run): Promise<Result[]> {
  const { options, proxy, registry, action } = run;
  const n = options.imagesSources;
  const out: Result[] = [];
  for (const k of options.images) {
    const repository = `bench/k${k}`;
    const digests = await pushSources(registry, repository, n);
    const samples: Sample[] = [];
    let error: string | undefined;
    for (let r = 1; r <= options.runs && error === undefined; r++) {
      const more = Array.from({ length: k - 1 }, (_, i) => `${repository}-r${r}-copy${i + 1}`);
      const job = { host: proxy.host, repository, more, tag: `k${k}-r${r}`, digests };
      try {
        samples.push(await measureMerge(proxy, action, job));
      } catch (caught) {
        error = message(caught);
        progress(`K=${k}: ${action.label} failed:\n${error}`);
      }
    }
    const more = Array.from({ length: k - 1 }, (_, i) => `${repository}-lockstep-copy${i + 1}`);
    const job = { host: proxy.host, repository, more, tag: 'lockstep', digests };
    const counted = await lockstepRounds(run, action, job);
    const times = samples.map((s) => formatMs(s.ms)).join(', ');
    progress(`K=${k} images, N=${n}: ${times} ms, ${counted?.rounds ?? '?'} rounds in lockstep`);
    out.push({ n: k, tool: action, samples, error, rounds: counted?.rounds, roundMap: counted?.map });
  }
  return out;
}

/** Spawn to first request for the action and the CLI (a 2-source merge), spawn to exit for bare Node. */
async function measureStartup(run: Run): Promise<Startup[]> {
  const { options, proxy, registry } = run;
  const repository = 'bench/startup';
  const digests = await pushSources(registry, repository, 2);
  const entries = [
    { label: `node ${options.dist}/index.js (action), to its first request`, tool: run.action },
    { label: `node ${options.dist}/cli/index.js, to its first request`, tool: run.cli },
  ];
  const out: Startup[] = entries.map((e) => ({ label: e.label, ms: [], error: undefined }));
  const bare: Startup = { label: 'node -e 0, to its exit', ms: [], error: undefined };
  for (let r = 1; r <= options.runs; r++) {
    bare.ms.push(await measureExit(bareNode));
    for (const [i, entry] of entries.entries()) {
      const result = out[i] as Startup;
      if (result.error !== undefined) continue;
      const job = { host: proxy.host, repository, tag: `startup-${entry.tool.id}-r${r}`, digests };
      try {
        result.ms.push(await measureFirstRequest(proxy, await entry.tool.plan(job)));
      } catch (caught) {
        out[i] = { ...result, error: message(caught) };
        progress(`start-up of ${entry.label} failed:\n${message(caught)}`);
      }
    }
  }
  for (const entry of [bare, ...out])
    progress(`start-up ${entry.label}: ${entry.ms.map(formatMs).join(', ')} ms`);
  return [bare, ...out];
}

interface Measured {
  readonly versions: readonly string[];
  readonly skipped: readonly string[];
  readonly results: readonly Result[];
  readonly bare: ReadonlyMap<number, readonly number[]>;
  readonly several: readonly Result[];
  readonly startup: readonly Startup[];
  readonly sizes: readonly BundleSize[];
  readonly tls: TlsRun | undefined;
  readonly copy: CopyRun | undefined;
}

function report(run: Run, m: Measured): string {
  const { options, action, cli } = run;
  const cpu = cpus();
  const lines: string[] = [
    `manifest-merge benchmark, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `- machine: ${osPlatform()} ${process.arch}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`,
    `- ${options.latencyMs} ms added to every response by the proxy; median of ${options.runs} runs per tool and N, runs interleaved`,
    `- bundles measured: ${options.dist}/`,
    ...m.versions.map((v) => `- ${v}`),
    ...m.skipped.map((s) => `- ${s}`),
    '',
    comparisonTable(m.results, action, options.latencyMs),
    '',
  ];
  for (const result of m.results) {
    if (result.error !== undefined)
      lines.push(`${result.tool.label} failed at N=${result.n}:`, result.error, '');
  }
  lines.push(
    'Where the time goes, every tool (medians, ms): before the first request, with requests in flight, between',
    'requests, after the last answer:',
    '',
    phasesTable(m.results),
    '',
  );
  for (const n of options.sizes) {
    const ours = m.results.filter((r) => r.n === n && (r.tool === action || r.tool === cli));
    const bare = m.bare.get(n) ?? [];
    lines.push(
      `Our time by round, N = ${n} (medians, ms; a round is "span (send: first to last request; slowest`,
      `request)"; bare Node start-up ${bare.length > 0 ? formatMs(median(bare)) : '-'} ms in these runs):`,
      '',
      breakdownTable(ours, bare.length > 0 ? median(bare) : undefined, options.latencyMs),
      '',
    );
  }
  const severalRows = m.several.map((r) => [
    String(r.n),
    String(options.imagesSources),
    medianMs(r) === undefined ? 'failed' : formatMs(medianMs(r) ?? 0),
    countRange(r.samples.map((s) => s.requests)),
    countRange(r.samples.map((s) => s.roundTrips)),
    r.rounds === undefined ? '-' : String(r.rounds),
  ]);
  lines.push(
    'Several images on one registry (the action, K images, one per line in `image`; fresh images every run;',
    'round trips as timed, then counted exactly in lockstep):',
    '',
    markdownTable(
      ['K', 'N', 'median ms', 'requests', 'round trips', 'in lockstep'],
      severalRows,
      new Set([0, 1, 2, 3, 4, 5]),
    ),
    '',
    `Start-up (median of ${options.runs}):`,
    '',
  );
  for (const entry of m.startup) {
    const figure = entry.ms.length > 0 ? `${formatMs(median(entry.ms))} ms` : 'failed';
    lines.push(
      `- ${entry.label}: ${figure}${entry.error === undefined ? '' : ` (${entry.error.split('\n')[0]})`}`,
    );
  }
  lines.push('', 'Bundle sizes:', '');
  for (const size of m.sizes) lines.push(`- ${size.path}: ${formatBytes(size.bytes)}`);
  if (m.tls) lines.push('', tlsReport(m.tls));
  if (m.copy) lines.push('', copyReport(m.copy));
  lines.push('', 'Targets:', '', ...targets(run, m), '');
  return `${lines.join('\n')}\n`;
}

/** The issue's targets, each marked met or missed. */
function targets(run: Run, m: Measured): string[] {
  const { action } = run;
  const out: string[] = [];
  const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  for (const result of m.results) {
    if (result.tool !== action || result.samples.length === 0) continue;
    const n = result.n;
    const rounds = result.rounds ?? worstRounds(result);
    const ms = medianMs(result) ?? 0;
    const how = result.rounds === undefined ? 'timed' : 'in lockstep';
    const maxRounds = TARGETS.roundTrips.get(n);
    if (maxRounds !== undefined) {
      out.push(
        `- N=${n}: ${rounds} sequential rounds, ${how} (at most ${maxRounds}): ${mark(rounds <= maxRounds)}`,
      );
    }
    const bare = m.bare.get(n) ?? [];
    const chain = medianBreakdown(result.samples, result.roundMap);
    if (bare.length > 0 && chain !== undefined) {
      const floor = median(bare) + chain.rounds.reduce((sum, r) => sum + r.slowestMs, 0);
      const ratio = ms / floor;
      out.push(
        `- N=${n}: ${formatMs(ms)} ms, ${ratio.toFixed(2)}x the limit of ${formatMs(floor)} ms (bare Node + each round's slowest request; at most ${TARGETS.floorFactor}x): ${mark(ratio <= TARGETS.floorFactor)}`,
      );
    }
    const factor = TARGETS.speedup.get(n);
    for (const peer of m.results) {
      if (factor === undefined || peer.n !== n || peer.tool === action || peer.tool === run.cli) continue;
      const peerMs = medianMs(peer);
      if (peerMs === undefined) continue;
      const speedup = peerMs / ms;
      out.push(
        `- N=${n}: ${speedup.toFixed(1)}x faster than ${peer.tool.label} (at least ${factor}x): ${mark(speedup >= factor)}`,
      );
    }
    const breakdown = medianBreakdown(result.samples, result.roundMap);
    if (n === TARGETS.gapN && breakdown !== undefined) {
      const gap = largestGap(breakdown);
      out.push(
        `- N=${n}: largest gap between rounds ${formatMs(gap)} ms (under ${TARGETS.gapMs} ms): ${mark(gap < TARGETS.gapMs)}`,
      );
    }
  }
  const one = m.several.find((r) => r.n === 1 && r.rounds !== undefined);
  for (const result of m.several) {
    if (one?.rounds === undefined || result === one || result.rounds === undefined) continue;
    const more = result.rounds - one.rounds;
    out.push(
      `- K=${result.n} images: ${result.rounds} rounds in lockstep, ${more} more than one image (at most ${TARGETS.moreImagesRounds}): ${mark(more <= TARGETS.moreImagesRounds)}`,
    );
  }
  if (m.tls) out.push(...tlsTargets(m.tls, TARGETS.tls));
  if (m.copy) out.push(...copyTargets(m.copy, TARGETS.copy));
  const [bare, actionStartup] = m.startup;
  if (bare && actionStartup && bare.ms.length > 0 && actionStartup.ms.length > 0) {
    const over = median(actionStartup.ms) - median(bare.ms);
    out.push(
      `- start-up of the action: ${formatMs(median(actionStartup.ms))} ms, ${formatMs(over)} ms above bare Node (at most ${TARGETS.startupOverBareMs} ms): ${mark(over <= TARGETS.startupOverBareMs)}`,
    );
  }
  return out;
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
