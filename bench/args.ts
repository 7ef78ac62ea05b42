import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Added to every response by the proxy, in ms. */
  readonly latencyMs: number;
  readonly runs: number;
  /** Numbers of per-platform sources to merge. */
  readonly sizes: readonly number[];
}

export const USAGE = `Usage: tsx bench/bench.ts [--latency MS] [--runs N] [--sizes N,N,...]

Merges N per-platform images into one index through a latency proxy, with manifest-merge and, where
installed, \`docker manifest\` and \`buildah manifest\`; prints median wall time, requests and sequential
round trips per tool, then the CLI's start-up time and the bundle sizes. Run \`npm run bundle\` first
(\`npm run bench\` does).

  --latency MS   added to every response (default 50)
  --runs N       timed runs per tool and size; the median is reported (default 5)
  --sizes LIST   numbers of sources, comma-separated (default 2,8,32)`;

/** Parses the command line; throws with a message on a bad value, returns undefined for --help. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      latency: { type: 'string', default: '50' },
      runs: { type: 'string', default: '5' },
      sizes: { type: 'string', default: '2,8,32' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  return {
    latencyMs: integer('--latency', values.latency, 0),
    runs: integer('--runs', values.runs, 1),
    sizes: values.sizes.split(',').map((size) => integer('--sizes', size.trim(), 1)),
  };
}

function integer(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${flag}: "${text}" is not a whole number >= ${min}`);
  }
  return value;
}
