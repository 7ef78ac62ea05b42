// `npm run demo`: the main job end to end on this machine. Starts a throwaway local registry, pushes two
// per-platform images by digest (as two build jobs would), merges them with the bundled CLI, prints the outputs.
import { spawnSync } from 'node:child_process';
import { pushImage } from '../__tests__/helpers/images.js';
import { startRegistry } from '../__tests__/helpers/registry.js';

const registry = await startRegistry();
try {
  const repo = 'demo/app';
  const images = await Promise.all(
    (['amd64', 'arm64'] as const).map((architecture) =>
      pushImage(registry, repo, { platform: { os: 'linux', architecture }, format: 'oci', seed: 'demo' }),
    ),
  );
  console.log(`registry at ${registry.url}; pushed by digest:`);
  for (const image of images)
    console.log(`  ${image.platform.os}/${image.platform.architecture}  ${image.digest}`);
  const args = ['dist/cli/index.js', '--image', `${registry.host}/${repo}`, '--tag', 'latest', '--tag', 'v1'];
  for (const image of images) args.push('--source', image.digest);
  console.log(`\n$ manifest-merge ${args.slice(1).join(' ')}\n`);
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
} finally {
  await registry.stop();
}
