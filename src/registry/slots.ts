/**
 * At most `size` tasks at a time, the others queued in order. Blob copies take one per registry, so memory and
 * connections stay bounded whatever the number of layers (a copy holds its buffers only while it runs).
 */
export class Slots {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  /** The most tasks that ever ran at once: what a test checks the bound with. */
  peak = 0;

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next task in line, so `running` never dips while tasks wait.
      if (next) next();
      else this.running--;
    }
  }
}
