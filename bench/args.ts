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
  /** The cases to run, each on its own if need be (a quiet machine later, one case at a time). */
  readonly cases: ReadonlySet<BenchCase>;
  /** Numbers of sources for the TLS + Bearer case. */
  readonly tlsSizes: readonly number[];
  /** The copy case's image: platforms x layers x MiB per layer; its own number of runs (each copies it all). */
  readonly copy: {
    readonly runs: number;
    readonly platforms: number;
    readonly layers: number;
    readonly layerMib: number;
  };
}

export const CASES = ['merge', 'images', 'startup', 'tls', 'copy'] as const;
export type BenchCase = (typeof CASES)[number];

export const USAGE = `Usage: tsx bench/bench.ts [--cases LIST] [--latency MS] [--runs N] [--sizes N,N,...]
                         [--images K,K,...] [--images-sources N] [--tls-sizes N,N,...] [--copy-runs N]
                         [--copy-platforms N] [--copy-layers N] [--copy-layer-mib MIB] [--dist DIR]

Merges N per-platform images into one index through a latency proxy with manifest-merge, run as a GitHub
runner runs the action (node dist/index.js with INPUT_* variables) and as the CLI, and, where installed, with
\`docker manifest\` and \`buildah manifest\`; prints median wall time, requests and sequential round trips per
tool, the floor (bare Node start-up plus one latency per round), where our time goes (start-up, each round,
the gaps between rounds, exit), the same merge into K images on one registry, start-up to the first request,
the bundle sizes, and each target of the benchmark issue, met or missed. The TLS + Bearer case runs the same
merge against a registry behind a TLS front with a token server behind another, counting rounds, connections,
TLS handshakes and token requests. The copy case brings a generated multi-platform image from one registry into
a fresh second one, against \`skopeo copy --all\`, with wall time, peak RSS and MiB moved. Run
\`npm run bundle\` first (\`npm run bench\` does).

  --cases LIST         which cases to run, comma-separated: ${CASES.join(', ')} (default: all)
  --latency MS         added to every response (default 50)
  --runs N             timed runs per tool and size; the median is reported (default 5)
  --sizes LIST         numbers of sources, comma-separated (default 2,8,32)
  --images LIST        numbers of target images on one registry (default 1,2,3)
  --images-sources N   sources merged into those images (default 8)
  --tls-sizes LIST     numbers of sources in the TLS + Bearer case (default 8,32)
  --copy-runs N        timed runs per tool of the copy case (default 3)
  --copy-platforms N   platforms of the copied image (default 4)
  --copy-layers N      layers per platform (default 4)
  --copy-layer-mib MIB size of each layer (default 32: 4 x 4 x 32 = 512 MiB); 128 with 1 layer: layers 4x larger
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
      cases: { type: 'string', default: CASES.join(',') },
      'tls-sizes': { type: 'string', default: '8,32' },
      'copy-runs': { type: 'string', default: '3' },
      'copy-platforms': { type: 'string', default: '4' },
      'copy-layers': { type: 'string', default: '4' },
      'copy-layer-mib': { type: 'string', default: '32' },
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
    cases: cases(values.cases),
    tlsSizes: list('--tls-sizes', values['tls-sizes']),
    copy: {
      runs: integer('--copy-runs', values['copy-runs'], 1),
      platforms: integer('--copy-platforms', values['copy-platforms'], 1),
      layers: integer('--copy-layers', values['copy-layers'], 1),
      layerMib: integer('--copy-layer-mib', values['copy-layer-mib'], 1),
    },
  };
}

function cases(text: string): Set<BenchCase> {
  const out = new Set<BenchCase>();
  for (const item of text.split(',').map((c) => c.trim())) {
    if (!(CASES as readonly string[]).includes(item)) {
      throw new Error(`--cases: "${item}" is not one of ${CASES.join(', ')}`);
    }
    out.add(item as BenchCase);
  }
  return out;
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
