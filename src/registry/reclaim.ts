/**
 * Frees the buffers blob copies have finished with, every RECLAIM_BYTES moved. Each read from a socket is a new
 * buffer, dead as soon as it is written on; V8 frees such buffers only at a collection, which a copy (almost no
 * heap garbage) rarely causes, so they piled up: a 512 MiB copy peaked at 150 MiB, 90 MiB of it dead buffers.
 * A young-generation collection frees them for under a millisecond; a buffer still in flight at one survives into
 * the old generation, so every MAJOR_EVERY-th collection is a full one (2 GiB of 128 MiB layers peaked at 134 MiB
 * with minor ones only, 113 with this). Memory stays bounded whatever the size and number of layers. V8's collector
 * is reached through `--expose-gc` set at run time (node:v8's documented `setFlagsFromString`), since the runner
 * starts the action without flags; a run that copies nothing never loads it.
 */
const RECLAIM_BYTES = 8 * 1024 * 1024;
const MAJOR_EVERY = 16;

type Collect = (options: { type: 'minor' | 'major' }) => void;
let collect: Collect | undefined;
let moved = 0;
let rounds = 0;

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
  rounds++;
  collect({ type: rounds % MAJOR_EVERY === 0 ? 'major' : 'minor' });
}
