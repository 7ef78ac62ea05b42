/**
 * Frees the buffers blob copies have finished with, every RECLAIM_BYTES moved. Each read from a socket is a new
 * buffer, dead as soon as it is written on; V8 frees such buffers only at a collection, which a copy (almost no
 * heap garbage) rarely causes, so they piled up: a 512 MiB copy peaked at 150 MiB, 90 MiB of it dead buffers.
 * A young-generation collection frees them for under a millisecond, so memory stays bounded whatever the size
 * and number of layers. V8's collector is reached through `--expose-gc` set at run time (node:v8's documented
 * `setFlagsFromString`), since the runner starts the action without flags; a run that copies nothing never loads it.
 */
const RECLAIM_BYTES = 8 * 1024 * 1024;

type Collect = (options: { type: 'minor' }) => void;
let collect: Collect | undefined;
let moved = 0;

/**
 * V8's collector, or nothing where a runtime refuses the flag: memory then peaks higher, and the copy is as right.
 */
function collector(): Collect {
  try {
    process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
    const gc: unknown = process
      .getBuiltinModule('node:vm')
      .runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc === 'function') return gc as Collect;
  } catch {
    // Falls through to the no-op below.
  }
  return () => {};
}

/** Counts bytes a copy moved; collects the young generation every RECLAIM_BYTES. */
export function reclaimAfter(bytes: number): void {
  moved += bytes;
  if (moved < RECLAIM_BYTES) return;
  moved = 0;
  collect ??= collector();
  collect({ type: 'minor' });
}
