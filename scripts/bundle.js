// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with esbuild, third-party licenses included.
// Builds into a scratch folder and swaps it in, so a test reading dist/ meanwhile never sees it half-written.
//
// Shaped for start-up time, which every run of the action pays (measured in docs/benchmarks.md):
// - CommonJS: Node's ES module loader builds a facade for every built-in module an ES module imports, which
//   runs their lazy getters (node:fs alone loads its streams), and goes through the asynchronous loader.
// - ASCII only: a bundle with any other character is decoded as UTF-8 into a two-byte string before V8 parses it.
// - `esbuildDetection` is the switch undici reads to leave out its experimental Milo parser (160 KB of WebAssembly
//   in base64, used only with UNDICI_USE_MILO=1), as Node's own undici build does.
// Types are checked by `npm run typecheck`, not here.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
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

/**
 * Built-in modules that undici requires at load but needs later, if at all: each becomes a stand-in that loads the
 * real module on first real use (measured: docs/benchmarks.md). Only CommonJS `require()` calls get one: an ES
 * import's named bindings are copied from the module object when it loads.
 * - `node:http2` takes 8 to 40 ms to load, and undici needs it only once a TLS connection has agreed on HTTP/2.
 *   Until then it reads constants from it, protocol constants: those its source names are copied from the Node
 *   that builds.
 * - `node:assert` takes 2 to 4 ms (it sets up colours for its messages, which opens stderr), and undici only ever
 *   calls `assert(value[, message])`: a check that holds needs no module, one that fails throws through the real
 *   `assert`.
 */
const http2Constants = createRequire(import.meta.url)('node:http2').constants;

/** The http2 constants a module names in its source, with their values. */
function constantsNamedIn(file) {
  const names = readFileSync(file, 'utf8').match(/\b(?:NG)?HTTP2?_[A-Z0-9_]+\b/g) ?? [];
  return Object.fromEntries(
    [...new Set(names)].filter((name) => name in http2Constants).map((name) => [name, http2Constants[name]]),
  );
}

const STAND_INS = {
  'node:http2': (importer) => [
    'let real;',
    "const load = () => (real ??= require('node:http2'));",
    `const known = ${JSON.stringify({ constants: constantsNamedIn(importer) })};`,
    'module.exports = new Proxy({}, {',
    '  get: (_, name) => (Object.hasOwn(known, name) ? known[name] : load()[name]),',
    '  has: (_, name) => Object.hasOwn(known, name) || name in load(),',
    '});',
  ],
  'node:assert': () => [
    'let real;',
    "const load = () => (real ??= require('node:assert'));",
    'function assert(...args) {',
    '  if (args.length === 0 || !args[0]) load()(...args);',
    '}',
    'module.exports = new Proxy(assert, { get: (target, name) => (name === "ok" ? target : load()[name]) });',
  ],
};

/** An esbuild plugin that puts the STAND_INS in place of the built-in modules undici requires. */
const standIns = {
  name: 'stand-ins',
  setup(builder) {
    const filter = new RegExp(`^(${Object.keys(STAND_INS).join('|')})$`);
    builder.onResolve({ filter }, (args) => {
      // A stand-in's own require is the real module.
      if (args.namespace === 'stand-in' || args.kind !== 'require-call')
        return { path: args.path, external: true };
      // One per importer where the importer's source shapes it (relative: the bundle is the same in every checkout).
      const from = relative(process.cwd(), args.importer).split(sep).join('/');
      const path = args.path === 'node:http2' ? `${args.path}?${from}` : args.path;
      return { path, namespace: 'stand-in', pluginData: { importer: args.importer } };
    });
    builder.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({
      loader: 'js',
      contents: STAND_INS[args.path.split('?')[0]](args.pluginData.importer).join('\n'),
    }));
  },
};

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
      define: { esbuildDetection: 'true' },
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
      write: false,
      plugins: [standIns],
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
