// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with @vercel/ncc, third-party licences in
// licenses.txt beside each, and any chunk loaded on demand (the GitHub API client) as its own file.
// Builds into a scratch folder and swaps it in, so a test reading dist/ meanwhile never sees it half-written.
// Types are checked by `npm run typecheck`, not here.
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ncc from '@vercel/ncc';

const scratch = `.dist-${process.pid}`;
const entries = [
  ['src/index.ts', scratch],
  ['src/cli-entry.ts', `${scratch}/cli`],
];

try {
  for (const [entry, out] of entries) {
    const { code, assets } = await ncc(join(process.cwd(), entry), {
      license: 'licenses.txt',
      quiet: true,
      // No cache: a bundle is made from the sources alone, so two runs give the same bytes.
      cache: false,
      sourceMap: false,
    });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'index.js'), code);
    for (const [name, asset] of Object.entries(assets)) {
      mkdirSync(dirname(join(out, name)), { recursive: true });
      writeFileSync(join(out, name), asset.source);
    }
  }
  chmodSync(join(scratch, 'cli', 'index.js'), 0o755);
  rmSync('dist', { recursive: true, force: true });
  renameSync(scratch, 'dist');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
