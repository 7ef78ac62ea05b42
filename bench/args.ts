import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Added to every response by the proxy, in ms. */
  readonly latencyMs: number;
  readonly runs: number;
  /** Numbers of per-platform sources to merge. */
  readonly sizes: readonly number[];
  /** Numbers of target images on the one registry, for the several-images comparison. */
  readonly images: readonly number[];
  /** The number of sources merged in the several-images comparison. */
  readonly imagesSources: number;
  /** The folder holding the bundles (index.js, cli/index.js): compare another build with --dist. */
  readonly dist: string;
}

export const USAGE = `Usage: tsx bench/bench.ts [--latency MS] [--runs N] [--sizes N,N,...] [--images K,K,...]
                         [--images-sources N] [--dist DIR]

Merges N per-platform images into one index through a latency proxy with manifest-merge, run as a GitHub
runner runs the action (node dist/index.js with INPUT_* variables) and as the CLI, and, where installed, with
\`docker manifest\` and \`buildah manifest\`; prints median wall time, requests and sequential round trips per
tool, the floor (bare Node start-up plus one latency per round), where our time goes (start-up, each round,
the gaps between rounds, exit), the same merge into K images on one registry, start-up to the first request,
the bundle sizes, and each target of the benchmark issue, met or missed. Run \`npm run bundle\` first
(\`npm run bench\` does).

  --latency MS         added to every response (default 50)
  --runs N             timed runs per tool and size; the median is reported (default 5)
  --sizes LIST         numbers of sources, comma-separated (default 2,8,32)
  --images LIST        numbers of target images on one registry (default 1,2,3)
  --images-sources N   sources merged into those images (default 8)
  --dist DIR           the bundles to measure (default dist)`;

/** Parses the command line; throws with a message on a bad value, returns undefined for --help. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      latency: { type: 'string', default: '50' },
      runs: { type: 'string', default: '5' },
      sizes: { type: 'string', default: '2,8,32' },
      images: { type: 'string', default: '1,2,3' },
      'images-sources': { type: 'string', default: '8' },
      dist: { type: 'string', default: 'dist' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  return {
    latencyMs: integer('--latency', values.latency, 0),
    runs: integer('--runs', values.runs, 1),
    sizes: list('--sizes', values.sizes),
    images: list('--images', values.images),
    imagesSources: integer('--images-sources', values['images-sources'], 1),
    dist: values.dist,
  };
}

function list(flag: string, text: string): number[] {
  return text.split(',').map((item) => integer(flag, item.trim(), 1));
}

function integer(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${flag}: "${text}" is not a whole number >= ${min}`);
  }
  return value;
}
