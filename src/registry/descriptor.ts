import type { Platform } from '../platform.js';
import type { Digest } from './digest.js';

/**
 * An OCI content descriptor. What a registry answers for a manifest fills the first three fields; an entry of
 * an index may carry the others.
 */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
}
