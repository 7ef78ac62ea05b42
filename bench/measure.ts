import { type RequestLogEntry, sequentialRoundTrips, type TestProxy } from '../__tests__/helpers/proxy.js';
import { mustRun } from './exec.js';
import type { MergeJob, Plan, Tool } from './peers.js';

/** One timed run of one tool, with the requests the proxy saw during exactly that run. */
export interface Sample {
  /** Wall time of all the tool's commands. */
  readonly ms: number;
  readonly requests: number;
  /** Connections the tool opened: on a TLS registry each costs a handshake, which the proxy does not add. */
  readonly connections: number;
  readonly roundTrips: number;
  /** Where the wall time went: before the first request, while requests were in flight, between them, after. */
  readonly phases: Phases;
  /** The run's requests as the proxy logged them, and when its first command started and its last one ended. */
  readonly log: readonly RequestLogEntry[];
  readonly started: number;
  readonly ended: number;
  /** The run's own tag (and image names), which `signature` takes out. */
  readonly job: MergeJob;
}

export interface Phases {
  readonly beforeFirstMs: number;
  readonly inFlightMs: number;
  readonly betweenMs: number;
  readonly afterLastMs: number;
}

/** One sequential round: the requests at the same depth of the chain of requests that waited for answers. */
export interface Round {
  /** What the round sent, e.g. `8 GET manifest, 1 HEAD manifest`. */
  readonly what: string;
  readonly requests: number;
  /** From the round's first request to its last answer. */
  readonly spanMs: number;
  /** From the round's first request to its last request: the client's own time to send the round. */
  readonly sendMs: number;
  /** The slowest request of the round: the latency plus the registry's own time. */
  readonly slowestMs: number;
  /**
   * From the last answer of the round before to this round's first request (for the first round: from the
   * spawn, the start-up); negative when this round began before the one before had all its answers.
   */
  readonly gapBeforeMs: number;
}

export interface Breakdown {
  readonly rounds: readonly Round[];
  /** From the last answer to the exit of the last command. */
  readonly exitMs: number;
}

/** Runs a tool's merge through the proxy: wall time of its commands, and its slice of the proxy's log. */
export async function measureMerge(proxy: TestProxy, tool: Tool, job: MergeJob): Promise<Sample> {
  const plan = await tool.plan(job);
  try {
    const from = proxy.log.length;
    const connectionsBefore = proxy.connections;
    let started = 0;
    for (const [i, step] of plan.steps.entries()) {
      await mustRun(step, () => {
        if (i === 0) started = performance.now();
      });
    }
    const ended = performance.now();
    const log = proxy.log.slice(from);
    return {
      ms: ended - started,
      requests: log.length,
      connections: proxy.connections - connectionsBefore,
      roundTrips: sequentialRoundTrips(log),
      phases: phases(log, started, ended),
      log,
      started,
      ended,
      job,
    };
  } finally {
    await plan.cleanup();
  }
}

/** Time from spawning the command to the proxy seeing its first request (clocks are the same process's). */
export async function measureFirstRequest(proxy: TestProxy, plan: Plan): Promise<number> {
  const [step] = plan.steps;
  if (step === undefined) throw new Error('nothing to run');
  try {
    const from = proxy.log.length;
    let spawned = 0;
    await mustRun(step, () => {
      spawned = performance.now();
    });
    const log = proxy.log.slice(from);
    if (log.length === 0) throw new Error(`${step.args[0] ?? step.command} made no request`);
    return Math.min(...log.map((entry) => entry.start)) - spawned;
  } finally {
    await plan.cleanup();
  }
}

/** Spawn to exit of a command that makes no request (bare `node -e 0`). */
export async function measureExit(plan: Plan): Promise<number> {
  try {
    let spawned = 0;
    for (const [i, step] of plan.steps.entries()) {
      await mustRun(step, () => {
        if (i === 0) spawned = performance.now();
      });
    }
    return performance.now() - spawned;
  } finally {
    await plan.cleanup();
  }
}

/** Splits [started, ended] by the union of the requests' [start, end] intervals. */
export function phases(log: readonly RequestLogEntry[], started: number, ended: number): Phases {
  if (log.length === 0)
    return { beforeFirstMs: ended - started, inFlightMs: 0, betweenMs: 0, afterLastMs: 0 };
  const sorted = [...log].sort((a, b) => a.start - b.start);
  let inFlight = 0;
  let spanStart = sorted[0]?.start ?? started;
  let spanEnd = spanStart;
  for (const entry of sorted) {
    if (entry.start > spanEnd) {
      inFlight += spanEnd - spanStart;
      spanStart = entry.start;
    }
    spanEnd = Math.max(spanEnd, entry.end);
  }
  inFlight += spanEnd - spanStart;
  const first = sorted[0]?.start ?? started;
  const last = Math.max(...log.map((entry) => entry.end));
  return {
    beforeFirstMs: first - started,
    inFlightMs: inFlight,
    betweenMs: last - first - inFlight,
    afterLastMs: ended - last,
  };
}

/**
 * The depth of each request in the chain of requests that waited for answers (1 for one sent before any answer),
 * as `sequentialRoundTrips` counts: the requests of one depth are one round. In log order.
 */
export function depths(log: readonly RequestLogEntry[]): number[] {
  const order = log.map((_, i) => i).sort((a, b) => (log[a]?.start ?? 0) - (log[b]?.start ?? 0));
  const depth = new Array<number>(log.length).fill(0);
  for (const [k, i] of order.entries()) {
    const entry = log[i] as RequestLogEntry;
    let before = 0;
    for (const j of order.slice(0, k)) {
      if ((log[j] as RequestLogEntry).end <= entry.start) before = Math.max(before, depth[j] ?? 0);
    }
    depth[i] = before + 1;
  }
  return depth;
}

/** What a request was, for round labels: `GET manifest`, `HEAD manifest`, `GET blob`, `POST blob`... */
export function requestKind(entry: RequestLogEntry): string {
  const path = entry.path.split('?')[0] ?? '';
  const what = path.includes('/manifests/') ? 'manifest' : path.includes('/blobs/') ? 'blob' : path;
  return `${entry.method} ${what}`;
}

/**
 * A request as any run of the same merge makes it: method and path, without the run's own tag, image names and
 * upload session. Rounds counted in lockstep for one run give each signature its round in every other run.
 */
export function signature(entry: RequestLogEntry, job: MergeJob): string {
  const path = (entry.path.split('?')[0] ?? '')
    .split(`/manifests/${job.tag}`)
    .join('/manifests/<tag>')
    .replace(/-(?:r\d+|lockstep)-copy/g, '-<run>-copy')
    .replace(/\/blobs\/uploads\/.*/, '/blobs/uploads/<session>');
  return `${entry.method} ${path}`;
}

/** Which round each signature is in, from a run counted in lockstep: a signature seen twice has two rounds. */
export type RoundMap = ReadonlyMap<string, readonly number[]>;

export function roundMap(lockstepRun: Sample): RoundMap {
  const depth = depths(lockstepRun.log);
  const map = new Map<string, number[]>();
  const order = lockstepRun.log.map((_, i) => i).sort((a, b) => (depth[a] ?? 0) - (depth[b] ?? 0));
  for (const i of order) {
    const key = signature(lockstepRun.log[i] as RequestLogEntry, lockstepRun.job);
    map.set(key, [...(map.get(key) ?? []), depth[i] ?? 0]);
  }
  return map;
}

/**
 * The round of each request of a run (in log order): from `rounds`, counted in lockstep, when every request of the
 * run is found there; else the depth in the chain of requests as timed, which a slow answer can split.
 */
export function roundsOf(sample: Sample, rounds: RoundMap | undefined): number[] {
  const timed = depths(sample.log);
  if (rounds === undefined) return timed;
  const seen = new Map<string, number>();
  const order = sample.log.map((_, i) => i).sort((a, b) => (timed[a] ?? 0) - (timed[b] ?? 0));
  const out = new Array<number>(sample.log.length).fill(0);
  for (const i of order) {
    const key = signature(sample.log[i] as RequestLogEntry, sample.job);
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    const round = rounds.get(key)?.[k];
    if (round === undefined) return timed;
    out[i] = round;
  }
  return out;
}

/**
 * The wall time of one run by round: start-up (the first round's gap), each round's span, the gap before each
 * later round, the exit. They add up to the wall time whenever no round outlasts the one after it.
 */
export function breakdown(sample: Sample, rounds: RoundMap | undefined): Breakdown {
  const { log, started, ended } = sample;
  const depth = roundsOf(sample, rounds);
  const count = Math.max(0, ...depth);
  const out: Round[] = [];
  let previousEnd = started;
  for (let d = 1; d <= count; d++) {
    const entries = log.filter((_, i) => depth[i] === d);
    if (entries.length === 0) continue;
    const firstStart = Math.min(...entries.map((e) => e.start));
    const lastStart = Math.max(...entries.map((e) => e.start));
    const lastEnd = Math.max(...entries.map((e) => e.end));
    const kinds = new Map<string, number>();
    for (const entry of entries) kinds.set(requestKind(entry), (kinds.get(requestKind(entry)) ?? 0) + 1);
    out.push({
      what: [...kinds].map(([kind, n]) => `${n} ${kind}`).join(', '),
      requests: entries.length,
      spanMs: lastEnd - firstStart,
      sendMs: lastStart - firstStart,
      slowestMs: Math.max(...entries.map((e) => e.end - e.start)),
      gapBeforeMs: firstStart - previousEnd,
    });
    previousEnd = lastEnd;
  }
  return { rounds: out, exitMs: ended - previousEnd };
}
