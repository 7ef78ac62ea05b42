// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with ncc, third-party licenses included.
// Builds into a scratch folder and swaps it in, so a test reading dist/ meanwhile never sees it half-written.
import { execFileSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';

const scratch = `.dist-${process.pid}`;
const entries = [
  ['src/index.ts', scratch],
  ['src/cli-entry.ts', `${scratch}/cli`],
];
try {
  for (const [entry, out] of entries) {
    execFileSync(
      'ncc',
      ['build', entry, '--out', out, '--license', 'licenses.txt', '--target', 'es2023', '--quiet'],
      {
        stdio: 'inherit',
      },
    );
  }
  rmSync('dist', { recursive: true, force: true });
  renameSync(scratch, 'dist');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
