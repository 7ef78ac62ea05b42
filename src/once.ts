/** The promise started for `key` the first time it is asked for, shared by every later caller. */
export function once<T>(started: Map<string, Promise<T>>, key: string, start: () => Promise<T>): Promise<T> {
  let pending = started.get(key);
  if (!pending) {
    pending = start();
    started.set(key, pending);
  }
  return pending;
}
