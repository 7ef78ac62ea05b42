/** A content digest, `<algorithm>:<hex>`; only sha256 and sha512 are accepted, as in the OCI image spec. */
export type Digest = `sha256:${string}` | `sha512:${string}`;

const DIGEST_PATTERN = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_PATTERN.test(value);
}

/** Parses a digest, or throws naming what was wrong; `what` says where the value came from. */
export function parseDigest(value: string, what = 'digest'): Digest {
  if (isDigest(value)) return value;
  if (/^sha256:[a-fA-F0-9]{64}$/i.test(value)) {
    throw new Error(`${what} "${value}" must be lowercase: sha256:${value.slice(7).toLowerCase()}`);
  }
  if (/^[a-fA-F0-9]{64}$/.test(value)) {
    throw new Error(`${what} "${value}" lacks its algorithm: write sha256:${value.toLowerCase()}`);
  }
  throw new Error(
    `${what} "${value}" is not a digest: expected sha256:<64 hex> (64 lowercase hex characters after "sha256:")`,
  );
}

export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
  // Loaded on first use, not at start: node:crypto takes 7 to 14 ms to load (docs/benchmarks.md), and the entry
  // points load it while the first request is on the wire.
  const { createHash } = process.getBuiltinModule('node:crypto');
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

export class DigestMismatchError extends Error {
  constructor(
    readonly expected: Digest,
    readonly actual: Digest,
    readonly where: string,
  ) {
    super(`${where}: content does not match its digest: expected ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

/** Hashes `bytes` with the algorithm of `expected` and throws unless they match. */
export function verifyDigest(bytes: Uint8Array, expected: Digest, where: string): void {
  const algorithm = expected.startsWith('sha512:') ? 'sha512' : 'sha256';
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) throw new DigestMismatchError(expected, actual, where);
}
