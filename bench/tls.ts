import { pushSources } from '../__tests__/helpers/fixtures.js';
import { makeTempDir, removeTempDir, selfSignedCert } from '../__tests__/helpers/local.js';
import { lockstep } from '../__tests__/helpers/lockstep.js';
import {
  fromHandler,
  personality,
  realmThroughProxy,
  tokenUrlOf,
} from '../__tests__/helpers/personalities.js';
import {
  type ProxyHandler,
  sequentialRoundTrips,
  startProxy,
  type TestProxy,
} from '../__tests__/helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../__tests__/helpers/registry.js';
import type { BenchOptions } from './args.js';
import { measureMerge, type Phases } from './measure.js';
import { dockerManifest, type MergeJob, manifestMergeAction, type Tool } from './peers.js';
import { countRange, formatMs, markdownTable, median, rotate } from './stats.js';

/**
 * The TLS + Bearer case: the same merge as the open-registry case, against a token-auth registry behind a TLS
 * front (a throwaway CA, trusted through NODE_EXTRA_CA_CERTS as a runner's CA would be), whose challenges name a
 * token realm behind a second TLS front. Both fronts add the latency and count their connections, each a TLS
 * handshake; the token front counts the token requests. Rounds are counted over both fronts' requests, timed,
 * and for the action exactly, in lockstep across both fronts.
 *
 * `docker manifest push` cannot use TLS here: the Docker CLI takes every loopback registry for an insecure one and
 * pushes to it over plain HTTP whatever it is told. So docker reaches the same registry through a plain-HTTP front
 * with the same latency (its token requests still go to the TLS token front, its CA given through SSL_CERT_FILE):
 * that spares it the registry's handshakes, which favours it.
 */

export interface TlsSample {
  readonly ms: number;
  readonly requests: number;
  readonly rounds: number;
  /** Connections to the registry front (TLS handshakes when `registryTls`) and to the token front (TLS). */
  readonly registryConnections: number;
  readonly registryTls: boolean;
  readonly tokenHandshakes: number;
  readonly tokenRequests: number;
  /** The registry front's view of the run (token requests not included): start-up, requests, exit. */
  readonly phases: Phases;
}

export interface TlsResult {
  readonly n: number;
  readonly label: string;
  readonly ours: boolean;
  readonly samples: readonly TlsSample[];
  /** Counted in lockstep (the action only). */
  readonly lockstep: TlsSample | undefined;
  readonly error: string | undefined;
}

export interface TlsRun {
  readonly latencyMs: number;
  readonly runs: number;
  readonly results: readonly TlsResult[];
}

interface Fronts {
  readonly reg: TestRegistry;
  readonly registry: TestProxy;
  /** The same registry over plain HTTP, for docker (see above). */
  readonly plain: TestProxy;
  readonly token: TestProxy;
  readonly caPath: string;
}

/** How long the lockstep fronts wait for more requests before they answer a round (as bench.ts). */
const LOCKSTEP_QUIET_MS = 250;

export async function tlsCase(
  options: BenchOptions,
  actionEntry: string,
  peers: readonly Tool[],
  progress: (line: string) => void,
): Promise<TlsRun> {
  const tools = [manifestMergeAction(actionEntry), ...peers.filter((peer) => peer === dockerManifest)];
  const reg = await startRegistry({ auth: 'token' });
  const dir = await makeTempDir('mm-bench-tls-');
  let registry: TestProxy | undefined;
  let plain: TestProxy | undefined;
  let token: TestProxy | undefined;
  try {
    const cert = await selfSignedCert(dir, '/CN=127.0.0.1', ['subjectAltName=IP:127.0.0.1']);
    const tokenUrl = tokenUrlOf(reg);
    token = await startProxy(new URL(tokenUrl).origin, { tls: cert, latencyMs: options.latencyMs });
    registry = await startProxy(reg.url, { tls: cert, latencyMs: options.latencyMs });
    plain = await startProxy(reg.url, { latencyMs: options.latencyMs });
    const fronts: Fronts = { reg, registry, plain, token, caPath: cert.certPath };
    const results: TlsResult[] = [];
    for (const n of options.tlsSizes) {
      const repository = `bench/tls${n}`;
      progress(`TLS N=${n}: pushing ${n} images by digest`);
      const digests = await pushSources(reg, repository, n);
      const job = (tool: Tool, tag: string): MergeJob => ({
        host: frontOf(fronts, tool).host,
        repository,
        tag,
        digests,
        login: { username: reg.username, password: reg.password },
        caPath: fronts.caPath,
      });
      const samples = new Map<Tool, TlsSample[]>(tools.map((tool) => [tool, []]));
      const errors = new Map<Tool, string>();
      for (let r = 1; r <= options.runs; r++) {
        const line: string[] = [];
        for (const tool of rotate(tools, r - 1)) {
          if (errors.has(tool)) continue;
          try {
            const sample = await measureTls(fronts, tool, job(tool, `${tool.id}-r${r}`), undefined);
            samples.get(tool)?.push(sample);
            line.push(`${tool.id} ${formatMs(sample.ms)} ms`);
          } catch (error) {
            errors.set(tool, error instanceof Error ? error.message : String(error));
            progress(`TLS N=${n}: ${tool.label} failed, left out:\n${errors.get(tool)}`);
          }
        }
        progress(`TLS N=${n} run ${r}/${options.runs}: ${line.join(', ')}`);
      }
      for (const [i, tool] of tools.entries()) {
        let counted: TlsSample | undefined;
        if (i === 0 && !errors.has(tool)) {
          counted = await measureTls(
            fronts,
            tool,
            job(tool, 'lockstep'),
            lockstep({ quietMs: LOCKSTEP_QUIET_MS }).handler,
          );
          progress(`TLS N=${n}: ${counted.rounds} rounds in lockstep`);
        }
        results.push({
          n,
          label: tool.label,
          ours: i === 0,
          samples: samples.get(tool) ?? [],
          lockstep: counted,
          error: errors.get(tool),
        });
      }
    }
    return { latencyMs: options.latencyMs, runs: options.runs, results };
  } finally {
    await registry?.close();
    await plain?.close();
    await token?.close();
    await reg.stop();
    await removeTempDir(dir);
  }
}

/**
 * One merge through both fronts: the registry front sends token requests to the token front (the realm
 * rewritten); with `rounds`, both answer in the same lockstep rounds.
 */
async function measureTls(
  fronts: Fronts,
  tool: Tool,
  job: MergeJob,
  rounds: ProxyHandler | undefined,
): Promise<TlsSample> {
  const front = frontOf(fronts, tool);
  const realm = realmThroughProxy(tokenUrlOf(fronts.reg), () => fronts.token.url);
  front.setHandler(rounds ? personality(realm, fromHandler(rounds)) : personality(realm));
  fronts.token.setHandler(rounds);
  const tokenFrom = fronts.token.log.length;
  const tokenConnections = fronts.token.connections;
  try {
    const sample = await measureMerge(front, tool, job);
    const tokenLog = fronts.token.log.slice(tokenFrom);
    const all = [...sample.log, ...tokenLog];
    return {
      ms: sample.ms,
      requests: all.length,
      rounds: sequentialRoundTrips(all),
      registryConnections: sample.connections,
      registryTls: front === fronts.registry,
      tokenHandshakes: fronts.token.connections - tokenConnections,
      tokenRequests: tokenLog.length,
      phases: sample.phases,
    };
  } finally {
    front.setHandler(undefined);
    fronts.token.setHandler(undefined);
  }
}

/** Where a tool reaches the registry: the TLS front, or for docker the plain-HTTP one. */
function frontOf(fronts: Fronts, tool: Tool): TestProxy {
  return tool === dockerManifest ? fronts.plain : fronts.registry;
}

/** TLS handshakes of a run: the token front's, and the registry front's when it was the TLS one. */
function handshakes(sample: TlsSample): number {
  return sample.tokenHandshakes + (sample.registryTls ? sample.registryConnections : 0);
}

export function tlsReport(run: TlsRun): string {
  const rows = run.results.map((result) => {
    const base = [String(result.n), result.label];
    if (result.samples.length === 0) return [...base, 'failed', '-', '-', '-', '-', '-', '-', '-', '-'];
    const ms = median(result.samples.map((s) => s.ms));
    const ours = run.results.find((r) => r.n === result.n && r.ours);
    const oursMs = ours && ours.samples.length > 0 ? median(ours.samples.map((s) => s.ms)) : undefined;
    const of = (pick: (s: TlsSample) => number) => countRange(result.samples.map(pick));
    return [
      ...base,
      formatMs(ms),
      of((s) => s.requests),
      `${of((s) => s.rounds)}${result.lockstep ? ` (${result.lockstep.rounds} in lockstep)` : ''}`,
      of((s) => s.registryConnections + s.tokenHandshakes),
      of(handshakes),
      of((s) => s.tokenRequests),
      formatMs(median(result.samples.map((s) => s.phases.beforeFirstMs))),
      formatMs(median(result.samples.map((s) => s.phases.afterLastMs))),
      oursMs === undefined ? '-' : `${(ms / oursMs).toFixed(1)}x`,
    ];
  });
  const lines = [
    `TLS registry with Bearer tokens (a TLS front on the registry, another on the token server, ${run.latencyMs} ms`,
    `added to every answer by each; median of ${run.runs}; connections as the fronts accepted them; docker reaches`,
    'the registry over plain HTTP, since its CLI pushes to any loopback registry that way, so only its token',
    'connections are TLS):',
    '',
    markdownTable(
      [
        'N',
        'tool',
        'median ms',
        'requests',
        'round trips',
        'connections',
        'TLS handshakes',
        'token requests',
        'before first request',
        'after last answer',
        'time vs action',
      ],
      rows,
      new Set([0, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    ),
    '',
  ];
  for (const result of run.results) {
    if (result.error !== undefined)
      lines.push(`${result.label} failed at N=${result.n}: ${result.error.split('\n')[0]}`, '');
  }
  return lines.join('\n');
}

export function tlsTargets(
  run: TlsRun,
  targets: {
    readonly speedup: ReadonlyMap<number, number>;
    readonly rounds: ReadonlyMap<number, number>;
    readonly tokenRequests: number;
    readonly handshakesOverN: number;
  },
): string[] {
  const out: string[] = [];
  const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  for (const ours of run.results.filter((r) => r.ours && r.samples.length > 0)) {
    const n = ours.n;
    const ms = median(ours.samples.map((s) => s.ms));
    const rounds = ours.lockstep?.rounds ?? Math.max(...ours.samples.map((s) => s.rounds));
    const maxRounds = targets.rounds.get(n);
    if (maxRounds !== undefined) {
      out.push(
        `- TLS N=${n}: ${rounds} rounds${ours.lockstep ? ' in lockstep' : ', timed'} (at most ${maxRounds}): ${mark(rounds <= maxRounds)}`,
      );
    }
    const tokens = Math.max(...ours.samples.map((s) => s.tokenRequests));
    out.push(
      `- TLS N=${n}: ${tokens} token request(s) per run at most (${targets.tokenRequests}): ${mark(tokens <= targets.tokenRequests)}`,
    );
    const most = Math.max(...ours.samples.map(handshakes));
    const maxHandshakes = n + targets.handshakesOverN;
    out.push(
      `- TLS N=${n}: ${most} TLS handshakes at most (at most N+${targets.handshakesOverN} = ${maxHandshakes}): ${mark(most <= maxHandshakes)}`,
    );
    const factor = targets.speedup.get(n);
    const docker = run.results.find((r) => r.n === n && !r.ours && r.samples.length > 0);
    if (factor !== undefined && docker) {
      const speedup = median(docker.samples.map((s) => s.ms)) / ms;
      out.push(
        `- TLS N=${n}: ${speedup.toFixed(1)}x faster than ${docker.label} (at least ${factor}x): ${mark(speedup >= factor)}`,
      );
    }
  }
  return out;
}
