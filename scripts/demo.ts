// `npm run demo [-- --keep]`: the main job end to end on this machine, in a minute. Starts a throwaway registry
// on 127.0.0.1, pushes two per-platform images by digest as two build jobs would (the arm64 one lands only while
// the merge waits for it), and runs the bundled CLI three times: the merge, which waits for the late image;
// `platforms` refusing an index without a platform it expects; the same merge again, which writes nothing.
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { type Platform, pushImage } from '../__tests__/helpers/images.js';
import { startRegistry } from '../__tests__/helpers/registry.js';

const USAGE = `usage: npm run demo [-- --keep]
  --keep  leave the registry running afterwards, to look inside it (Ctrl-C stops it)`;
/** How long the merge waits for the arm64 image: long enough for the wait to show in the log. */
const LATE_MS = 3_000;
const REPOSITORY = 'demo/app';

const args = process.argv.slice(2);
const unknown = args.find((arg) => arg !== '--keep');
if (unknown !== undefined) {
  console.error(`demo: unknown argument ${JSON.stringify(unknown)}\n${USAGE}`);
  process.exit(2);
}
const keep = args.includes('--keep');

interface Merge {
  readonly code: number;
  readonly outputs: Record<string, unknown> | undefined;
}

/** Runs the bundled CLI, its log indented under the command line (and seen by `onLine`), its outputs parsed. */
function merge(argv: readonly string[], onLine?: (line: string) => void): Promise<Merge> {
  console.log(`\n$ manifest-merge ${argv.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/cli/index.js', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        console.log(`  ${line}`);
        onLine?.(line);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial) console.log(`  ${partial}`);
      resolve({
        code: code ?? 1,
        outputs: stdout ? (JSON.parse(stdout) as Record<string, unknown>) : undefined,
      });
    });
  });
}

/** The outputs as a person reads them: one per line, objects as rows, the manifest as indented JSON. */
function showOutputs(outputs: Record<string, unknown>): void {
  console.log('\noutputs:');
  for (const [name, value] of Object.entries(outputs)) {
    if (name === 'images') continue; // one image here: the same refs as ref, tags and platform-refs
    const rows =
      name === 'manifest' && typeof value === 'string'
        ? JSON.stringify(JSON.parse(value), null, 2).split('\n')
        : Array.isArray(value)
          ? value.map(String)
          : typeof value === 'object' && value !== null
            ? Object.entries(value).map(([key, item]) => `${key.padEnd(13)}${String(item)}`)
            : [String(value)];
    const label = `  ${name.padEnd(18)}`;
    for (const [i, row] of rows.entries()) console.log(`${i === 0 ? label : ' '.repeat(label.length)}${row}`);
  }
}

function section(title: string): void {
  console.log(`\n== ${title}`);
}

const registry = await startRegistry();
try {
  const image = `${registry.host}/${REPOSITORY}`;
  const build = (architecture: string) => ({
    platform: { os: 'linux', architecture } satisfies Platform,
    format: 'oci' as const,
    seed: 'demo',
  });
  section(
    `1. Two build jobs push by digest to ${image}; the arm64 push lands ${LATE_MS / 1000} s into the merge's wait`,
  );
  const amd64 = await pushImage(registry, REPOSITORY, build('amd64'));
  // The arm64 job's digest is known before its image is in the repository, as a job output is: the image is
  // built in a staging repository first, and pushed (the same bytes, so the same digest) once the merge waits.
  const arm64 = await pushImage(registry, 'demo/staging', build('arm64'));
  console.log(`linux/amd64  ${amd64.digest}  (pushed)\nlinux/arm64  ${arm64.digest}  (not yet pushed)`);
  const sources = ['--source', `linux/amd64=${amd64.digest}`, '--source', `linux/arm64=${arm64.digest}`];
  const job = ['--image', image, '--tag', 'latest', '--tag', 'v1', '--platforms', 'linux/amd64,linux/arm64'];
  let late: Promise<{ digest: string }> | undefined;
  const first = await merge([...job, ...sources], (line) => {
    // Counted from the merge's first waiting line, so its wait shows however long Node took to start.
    if (late === undefined && line.includes('is not served yet')) {
      late = delay(LATE_MS).then(() => pushImage(registry, REPOSITORY, build('arm64')));
    }
  });
  if ((await late)?.digest !== arm64.digest)
    throw new Error('demo: the arm64 image was not pushed as planned');
  if (first.code !== 0 || !first.outputs) throw new Error(`demo: the merge failed (exit code ${first.code})`);
  showOutputs(first.outputs);

  section('2. platforms expects linux/arm/v7 too, which no build pushed: nothing is written');
  const refused = await merge([
    '--image',
    image,
    '--tag',
    'latest',
    '--platforms',
    'linux/amd64,linux/arm64,linux/arm/v7',
    ...sources,
  ]);
  if (refused.code !== 1) throw new Error(`demo: platforms should have refused (exit code ${refused.code})`);
  console.log(`exit code 1; ${image}:latest still serves ${String(first.outputs['digest'])}`);

  section('3. The same merge again: the same sources give the same bytes, so no tag is written');
  const again = await merge([...job, ...sources]);
  if (again.code !== 0 || again.outputs?.['written'] !== false) {
    throw new Error(`demo: the second run should have written nothing (exit code ${again.code})`);
  }
  console.log(`\nwritten: false, digest ${String(again.outputs['digest'])} (the same as the first run's)`);

  if (keep) {
    console.log(`
The registry is still running at ${registry.url}. Look inside:
  curl -s ${registry.url}/v2/${REPOSITORY}/tags/list
  curl -s -H 'Accept: application/vnd.oci.image.index.v1+json' ${registry.url}/v2/${REPOSITORY}/manifests/latest
  skopeo inspect --tls-verify=false --raw docker://${image}:latest
  node dist/cli/index.js --image ${image} --tag v2 --source ${amd64.digest}
Ctrl-C stops it and removes its storage.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
} finally {
  await registry.stop();
}
