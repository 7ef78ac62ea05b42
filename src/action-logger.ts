import * as core from '@actions/core';
import { type Logger, printable, secretParts } from './log.js';

/**
 * The Logger for the runner, on @actions/core. Every message goes through printable() first: core escapes a
 * command's data but writes an info line as it is, and a value from a registry or an input must not start a
 * workflow command of its own. Debug lines are written only when the runner shows them (RUNNER_DEBUG=1): there is
 * one per request, and the runner drops them otherwise.
 */
export function actionLogger(): Logger {
  return {
    debug: (message) => {
      if (core.isDebug()) core.debug(printable(message));
    },
    info: (message) => core.info(printable(message)),
    warning: (message, title) => core.warning(printable(message), title ? { title: printable(title) } : {}),
    group: (name, fn) => core.group(printable(name), fn),
    // Each line a mask of its own too: the runner matches masks line by line.
    secret: (value) => {
      for (const part of secretParts(value)) core.setSecret(part);
    },
  };
}
