import { type Platform, pushImage, type RegistryEndpoint } from './images.js';

/** Real platforms first, then made-up ARM variants, so any N gives N distinct platforms. */
const KNOWN: readonly Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
  { os: 'linux', architecture: 'arm', variant: 'v6' },
  { os: 'linux', architecture: '386' },
  { os: 'linux', architecture: 'ppc64le' },
  { os: 'linux', architecture: 's390x' },
  { os: 'linux', architecture: 'riscv64' },
];

/** N distinct platforms, the same list every time. */
export function benchPlatforms(count: number): Platform[] {
  const platforms: Platform[] = [];
  for (let i = 0; i < count; i++) {
    platforms.push(KNOWN[i] ?? { os: 'linux', architecture: 'arm', variant: `v${i - KNOWN.length + 8}` });
  }
  return platforms;
}

/**
 * Pushes one small image per platform by digest (no tag), as per-platform build jobs do, and returns the
 * digests in platform order. Goes straight to the registry, not through any proxy.
 */
export async function pushSources(
  registry: RegistryEndpoint,
  repository: string,
  count: number,
  seed = repository,
): Promise<string[]> {
  const digests: string[] = [];
  // A few at a time: quick, without opening dozens of upload sessions at once.
  const platforms = benchPlatforms(count);
  for (let i = 0; i < platforms.length; i += 8) {
    const batch = platforms.slice(i, i + 8);
    const pushed = await Promise.all(
      batch.map((platform) => pushImage(registry, repository, { platform, format: 'oci', seed })),
    );
    digests.push(...pushed.map((image) => image.digest));
  }
  return digests;
}
