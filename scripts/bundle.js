// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with esbuild, third-party licenses included.
// Builds into a scratch folder and swaps it in, so a test reading dist/ meanwhile never sees it half-written.
//
// Shaped for start-up time, which every run of the action pays (measured in docs/benchmarks.md):
// - CommonJS: Node's ES module loader builds a facade for every built-in module an ES module imports, which
//   runs their lazy getters (node:fs alone loads its streams), and goes through the asynchronous loader.
// - ASCII only: a bundle with any other character is decoded as UTF-8 into a two-byte string before V8 parses it.
// Types are checked by `npm run typecheck`, not here.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { build } from 'esbuild';

const scratch = `.dist-${process.pid}`;
const entries = [
  ['src/index.ts', scratch],
  ['src/cli-entry.ts', `${scratch}/cli`],
];

/** The npm package a bundled file belongs to: its nearest package.json below node_modules, or undefined. */
function packageDir(file) {
  if (file.startsWith('stand-in:')) return undefined;
  const parts = file.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const scoped = parts[at + 1]?.startsWith('@');
  return parts.slice(0, at + (scoped ? 3 : 2)).join('/');
}

/** `name`, `license`, then the text of the package's license file, for every package in the bundle. */
function licenses(inputs) {
  const dirs = [...new Set(Object.keys(inputs).map(packageDir).filter(Boolean))];
  const blocks = dirs.map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'license.md']
      .map((name) => join(dir, name))
      .find((path) => {
        try {
          readFileSync(path);
          return true;
        } catch {
          return false;
        }
      });
    if (!file) throw new Error(`${dir}: no license file to ship with the bundle`);
    return `${pkg.name}\n${pkg.license}\n${readFileSync(file, 'utf8').trim()}\n`;
  });
  return blocks.sort().join('\n');
}

try {
  for (const [entry, out] of entries) {
    const result = await build({
      entryPoints: [entry],
      outfile: `${out}/index.js`,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      charset: 'ascii',
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
      write: false,
    });
    const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {};
    mkdirSync(out, { recursive: true });
    for (const file of result.outputFiles) {
      // `charset: 'ascii'` escapes code, strings and regular expressions, but keeps comments as they are.
      const ascii = file.text.replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
      writeFileSync(file.path, ascii, { mode: file.path.endsWith(`cli${sep}index.js`) ? 0o755 : 0o644 });
    }
    writeFileSync(join(out, 'licenses.txt'), licenses(inputs));
    // The repository's package.json says "module"; the bundles are CommonJS.
    writeFileSync(join(out, 'package.json'), '{\n  "type": "commonjs"\n}\n');
  }
  rmSync('dist', { recursive: true, force: true });
  renameSync(scratch, 'dist');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
