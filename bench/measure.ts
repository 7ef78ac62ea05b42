import { type RequestLogEntry, sequentialRoundTrips, type TestProxy } from '../__tests__/helpers/proxy.js';
import { mustRun } from './exec.js';
import type { MergeJob, Plan, Tool } from './peers.js';

/** One timed run of one tool, with the requests the proxy saw during exactly that run. */
export interface Sample {
  /** Wall time of all the tool's commands. */
  readonly ms: number;
  readonly requests: number;
  readonly roundTrips: number;
  /** Where the wall time went: before the first request, while requests were in flight, between them, after. */
  readonly phases: Phases;
}

export interface Phases {
  readonly beforeFirstMs: number;
  readonly inFlightMs: number;
  readonly betweenMs: number;
  readonly afterLastMs: number;
}

/** Runs a tool's merge through the proxy: wall time of its commands, and its slice of the proxy's log. */
export async function measureMerge(proxy: TestProxy, tool: Tool, job: MergeJob): Promise<Sample> {
  const plan = await tool.plan(job);
  try {
    const from = proxy.log.length;
    const started = performance.now();
    for (const step of plan.steps) await mustRun(step);
    const ended = performance.now();
    const log = proxy.log.slice(from);
    return {
      ms: ended - started,
      requests: log.length,
      roundTrips: sequentialRoundTrips(log),
      phases: phases(log, started, ended),
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
