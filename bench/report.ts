import { type Breakdown, breakdown, type Phases, type RoundMap, type Sample } from './measure.js';
import type { Tool } from './peers.js';
import { countRange, formatMs, markdownTable, median } from './stats.js';

/** Every run of one tool at one N. */
export interface Result {
  readonly n: number;
  readonly tool: Tool;
  readonly samples: readonly Sample[];
  readonly error: string | undefined;
  /** Sequential rounds counted exactly, in lockstep (the action only). */
  readonly rounds?: number | undefined;
  /** The round of each request, from the run counted in lockstep. */
  readonly roundMap?: RoundMap | undefined;
}

/** The median wall time of a result, or undefined when it has no sample. */
export function medianMs(result: Result | undefined): number | undefined {
  return result && result.samples.length > 0 ? median(result.samples.map((s) => s.ms)) : undefined;
}

/** The most round trips any run of a result needed. */
export function worstRounds(result: Result): number {
  return Math.max(...result.samples.map((s) => s.roundTrips));
}

/** The comparison: one row per N and tool, speedups against the action as the runner runs it. */
export function comparisonTable(results: readonly Result[], action: Tool, latencyMs: number): string {
  const rows = results.map((result) => {
    const base = [String(result.n), `${latencyMs} ms`, result.tool.label];
    const ms = medianMs(result);
    if (ms === undefined) return [...base, 'failed', '-', '-', '-', '-', '-'];
    const oursMs = medianMs(results.find((r) => r.n === result.n && r.tool === action));
    return [
      ...base,
      formatMs(ms),
      countRange(result.samples.map((s) => s.requests)),
      countRange(result.samples.map((s) => s.connections)),
      countRange(result.samples.map((s) => s.roundTrips)),
      result.rounds === undefined ? '-' : String(result.rounds),
      oursMs === undefined ? '-' : `${(ms / oursMs).toFixed(1)}x`,
    ];
  });
  return markdownTable(
    [
      'N',
      'latency',
      'tool',
      'median ms',
      'requests',
      'connections',
      'round trips',
      'in lockstep',
      'time vs action',
    ],
    rows,
    new Set([0, 1, 3, 4, 5, 6, 7, 8]),
  );
}

/** Before the first request, with requests in flight, between requests, after the last: every tool. */
export function phasesTable(results: readonly Result[]): string {
  const rows = results
    .filter((r) => r.samples.length > 0)
    .map((result) => {
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
    });
  return markdownTable(
    ['N', 'tool', 'before first', 'in flight', 'between', 'after last'],
    rows,
    new Set([0, 2, 3, 4, 5]),
  );
}

/** The medians of a result's breakdowns, from the runs with the most common number of rounds. */
export interface MedianBreakdown {
  readonly startupMs: number;
  readonly rounds: readonly {
    readonly what: string;
    readonly spanMs: number;
    readonly sendMs: number;
    readonly slowestMs: number;
    readonly gapBeforeMs: number;
  }[];
  readonly exitMs: number;
  readonly runs: number;
}

export function medianBreakdown(
  samples: readonly Sample[],
  roundMap: RoundMap | undefined,
): MedianBreakdown | undefined {
  const counts = new Map<number, Breakdown[]>();
  for (const sample of samples) {
    const b = breakdown(sample, roundMap);
    counts.set(b.rounds.length, [...(counts.get(b.rounds.length) ?? []), b]);
  }
  const [count, runs] = [...counts].sort((a, b) => b[1].length - a[1].length || a[0] - b[0])[0] ?? [0, []];
  if (count === 0 || runs.length === 0) return undefined;
  const rounds = Array.from({ length: count }, (_, i) => {
    const of = (pick: (r: Breakdown['rounds'][number]) => number) =>
      median(runs.map((b) => pick(b.rounds[i] as Breakdown['rounds'][number])));
    return {
      what: runs[0]?.rounds[i]?.what ?? '',
      spanMs: of((r) => r.spanMs),
      sendMs: of((r) => r.sendMs),
      slowestMs: of((r) => r.slowestMs),
      gapBeforeMs: of((r) => r.gapBeforeMs),
    };
  });
  return {
    startupMs: rounds[0]?.gapBeforeMs ?? 0,
    rounds,
    exitMs: median(runs.map((b) => b.exitMs)),
    runs: runs.length,
  };
}

/** The largest gap between two rounds (the first round's "gap" is the start-up, not counted). */
export function largestGap(breakdown: MedianBreakdown): number {
  return Math.max(...breakdown.rounds.slice(1).map((r) => r.gapBeforeMs), Number.NEGATIVE_INFINITY);
}

/**
 * Where our time goes at one N, for each of our tools: start-up, each round (its span; how long the client took
 * to send it; its slowest request), the gap before each round after the first, the exit, against the floor.
 */
export function breakdownTable(
  results: readonly Result[],
  floorMs: number | undefined,
  latencyMs: number,
): string {
  const columns = results
    .map((result) => ({ result, breakdown: medianBreakdown(result.samples, result.roundMap) }))
    .filter((c): c is { result: Result; breakdown: MedianBreakdown } => c.breakdown !== undefined);
  const longest = Math.max(0, ...columns.map((c) => c.breakdown.rounds.length));
  const rows: string[][] = [];
  const row = (phase: string, what: string, cell: (b: MedianBreakdown) => string) =>
    rows.push([phase, what, ...columns.map((c) => cell(c.breakdown))]);
  row('start-up', 'spawn to first request', (b) => formatMs(b.startupMs));
  for (let i = 0; i < longest; i++) {
    const what = columns.map((c) => c.breakdown.rounds[i]?.what).find((w) => w !== undefined) ?? '';
    if (i > 0) {
      row(`gap ${i} to ${i + 1}`, 'last answer to next request', (b) => {
        const gap = b.rounds[i]?.gapBeforeMs;
        return gap === undefined ? '-' : formatMs(gap);
      });
    }
    row(`round ${i + 1}`, what, (b) => {
      const round = b.rounds[i];
      if (round === undefined) return '-';
      return `${formatMs(round.spanMs)} (send ${formatMs(round.sendMs)}, slowest ${formatMs(round.slowestMs)})`;
    });
  }
  row('exit', 'last answer to exit', (b) => formatMs(b.exitMs));
  rows.push(['total', 'median wall time', ...columns.map((c) => formatMs(medianMs(c.result) ?? 0))]);
  if (floorMs !== undefined) {
    const ratio = (c: (typeof columns)[number], floor: number) =>
      `${formatMs(floor)} (${((medianMs(c.result) ?? 0) / floor).toFixed(2)}x)`;
    rows.push([
      'floor',
      `bare Node + rounds x ${latencyMs} ms`,
      ...columns.map((c) => ratio(c, floorMs + (c.result.rounds ?? worstRounds(c.result)) * latencyMs)),
    ]);
    rows.push([
      'floor, this registry',
      "bare Node + each round's slowest request",
      ...columns.map((c) => ratio(c, floorMs + c.breakdown.rounds.reduce((sum, r) => sum + r.slowestMs, 0))),
    ]);
  }
  return markdownTable(
    ['phase', 'what', ...columns.map((c) => `${c.result.tool.label} ms`)],
    rows,
    new Set(columns.map((_, i) => i + 2)),
  );
}
