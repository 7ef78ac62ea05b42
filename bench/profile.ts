import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pushSources } from '../__tests__/helpers/fixtures.js';
import { startProxy } from '../__tests__/helpers/proxy.js';
import { startRegistry } from '../__tests__/helpers/registry.js';
import { mustRun } from './exec.js';
import { depths, requestKind } from './measure.js';
import { manifestMergeAction } from './peers.js';
import { bundlesIn } from './startup.js';
import { formatMs } from './stats.js';

/**
 * `npm run bench:profile`: one run of the action as the runner runs it, through the latency proxy, under Node's CPU
 * profiler. Writes the .cpuprofile (open it in Chrome DevTools, Performance tab) and prints the requests by round
 * and where the process was busy: before the first request, while requests were out, after the last answer.
 * Profiling slows the process down; compare profiles with profiles, and time with `npm run bench`.
 */

const { values } = parseArgs({
  options: {
    sources: { type: 'string', default: '32' },
    latency: { type: 'string', default: '50' },
    dist: { type: 'string', default: 'dist' },
    out: { type: 'string', default: '.tmp/profile' },
  },
});
const n = Number(values.sources);
const out = resolve(values.out);
await mkdir(out, { recursive: true });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const registry = await startRegistry();
const proxy = await startProxy(registry.url, { latencyMs: Number(values.latency) });
try {
  const repository = `profile/n${n}`;
  const digests = await pushSources(registry, repository, n);
  const action = manifestMergeAction(bundlesIn(values.dist).action);
  const before = new Set(await readdir(out));
  const plan = await action.plan({ host: proxy.host, repository, tag: `profile-${Date.now()}`, digests });
  const [step] = plan.steps;
  if (step === undefined) throw new Error('nothing to run');
  const from = proxy.log.length;
  let spawned = 0;
  let spawnedUs = 0n;
  try {
    await mustRun(
      { ...step, args: ['--cpu-prof', `--cpu-prof-dir=${out}`, '--cpu-prof-interval=100', ...step.args] },
      () => {
        spawned = performance.now();
        spawnedUs = process.hrtime.bigint() / 1000n;
      },
    );
  } finally {
    await plan.cleanup();
  }
  const ended = performance.now() - spawned;
  const log = proxy.log.slice(from);
  const depth = depths(log);
  const file = (await readdir(out)).find((name) => name.endsWith('.cpuprofile') && !before.has(name));
  if (file === undefined) throw new Error(`no profile was written to ${out}`);

  process.stdout.write(`profile: ${join(out, file)}\nrun: ${formatMs(ended)} ms, ${log.length} requests\n\n`);
  for (let d = 1; d <= Math.max(0, ...depth); d++) {
    const entries = log.filter((_, i) => depth[i] === d);
    const starts = entries.map((e) => e.start - spawned);
    const ends = entries.map((e) => e.end - spawned);
    const kinds = [...new Set(entries.map(requestKind))].join(', ');
    process.stdout.write(
      `round ${d}: ${entries.length} x ${kinds}, sent ${formatMs(Math.min(...starts))}-${formatMs(Math.max(...starts))} ms, answered by ${formatMs(Math.max(...ends))} ms\n`,
    );
  }

  // Busy time per phase, by function (self time), from the samples placed on the same clock as the proxy's log.
  const profile = JSON.parse(await readFile(join(out, file), 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const firstStart = Math.min(...log.map((e) => e.start)) - spawned;
  const lastEnd = Math.max(...log.map((e) => e.end)) - spawned;
  const phases = new Map<string, Map<string, number>>();
  let t = profile.startTime;
  for (const [i, id] of profile.samples.entries()) {
    t += profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined || frame.functionName === '(idle)') continue;
    const ms = (t - Number(spawnedUs)) / 1000;
    const phase = ms < firstStart ? 'start-up' : ms <= lastEnd ? 'between requests' : 'exit';
    const label = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
    const table = phases.get(phase) ?? new Map<string, number>();
    table.set(label, (table.get(label) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
    phases.set(phase, table);
  }
  for (const [phase, table] of phases) {
    const busy = [...table.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`\n${phase}: ${formatMs(busy)} ms busy (profiled), by self time:\n`);
    for (const [label, ms] of [...table].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
      process.stdout.write(`  ${formatMs(ms).padStart(6)} ms  ${label}\n`);
    }
  }
} finally {
  await proxy.close();
  await registry.stop();
}
