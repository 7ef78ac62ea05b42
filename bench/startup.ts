import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** The two bundles of a dist folder: the action (`index.js`) and the CLI (`cli/index.js`). */
export interface Bundles {
  readonly action: string;
  readonly cli: string;
}

export function bundlesIn(dist: string): Bundles {
  return { action: resolve(dist, 'index.js'), cli: resolve(dist, 'cli', 'index.js') };
}

export interface BundleSize {
  readonly path: string;
  readonly bytes: number;
}

/** Sizes of the two bundles; throws with the fix when they are missing. */
export async function bundleSizes(dist: string): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const path of [join(dist, 'index.js'), join(dist, 'cli', 'index.js')]) {
    try {
      sizes.push({ path, bytes: (await stat(path)).size });
    } catch {
      throw new Error(`${path} is missing: run \`npm run bundle\` first (\`npm run bench\` does)`);
    }
  }
  return sizes;
}
