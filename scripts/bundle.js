// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with ncc, third-party licenses included.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const entries = [
  ['src/index.ts', 'dist'],
  ['src/cli-entry.ts', 'dist/cli'],
];
rmSync('dist', { recursive: true, force: true });
for (const [entry, out] of entries) {
  execFileSync(
    'ncc',
    ['build', entry, '--out', out, '--license', 'licenses.txt', '--target', 'es2023', '--quiet'],
    {
      stdio: 'inherit',
    },
  );
}
