import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION_ENTRY, CLI_ENTRY } from '../__tests__/helpers/action.js';
import type { MergeJob, Plan } from './peers.js';

/** `node dist/index.js` as the runner starts it: inputs as INPUT_* variables, command files in a temp dir. */
export async function actionPlan(job: MergeJob): Promise<Plan> {
  const dir = await mkdtemp(join(tmpdir(), 'mm-bench-action-'));
  const output = join(dir, 'output');
  const summary = join(dir, 'summary');
  await Promise.all([writeFile(output, ''), writeFile(summary, '')]);
  return {
    steps: [
      {
        command: process.execPath,
        args: [ACTION_ENTRY],
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: dir,
          RUNNER_TEMP: dir,
          GITHUB_ACTIONS: 'true',
          GITHUB_OUTPUT: output,
          GITHUB_STEP_SUMMARY: summary,
          INPUT_IMAGE: `${job.host}/${job.repository}`,
          INPUT_TAGS: job.tag,
          INPUT_SOURCES: job.digests.join('\n'),
        },
      },
    ],
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface BundleSize {
  readonly path: string;
  readonly bytes: number;
}

/** Sizes of the two bundles; throws with the fix when they are missing. */
export async function bundleSizes(): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const [path, file] of [
    ['dist/index.js', ACTION_ENTRY],
    ['dist/cli/index.js', CLI_ENTRY],
  ] as const) {
    try {
      sizes.push({ path, bytes: (await stat(file)).size });
    } catch {
      throw new Error(`${path} is missing: run \`npm run bundle\` first (\`npm run bench\` does)`);
    }
  }
  return sizes;
}
