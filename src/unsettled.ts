/**
 * Fails the process if `work` has not settled when the event loop runs dry. A promise that can never settle (one
 * that waits on itself) leaves nothing to run, and Node would then exit 0 with no outputs: a silent success.
 */
export function failIfUnsettled(work: Promise<unknown>, fail: () => void): void {
  let settled = false;
  const done = () => {
    settled = true;
  };
  work.then(done, done);
  process.once('beforeExit', () => {
    if (!settled) fail();
  });
}

/** What the entry points say when the run stopped without finishing. */
export const UNSETTLED_MESSAGE =
  'the run stopped without finishing: it waited on something that can never come, and no tag was confirmed. ' +
  'This is a bug in manifest-merge; please report it with the debug log';
