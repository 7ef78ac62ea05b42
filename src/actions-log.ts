import * as core from '@actions/core';
import { type Logger, printable } from './log.js';

/** The Logger backed by @actions/core: groups fold in the run log, secrets are masked by the runner. */
export function actionsLogger(): Logger {
  return {
    // core.info writes the text as it is: a newline in it would start a line the runner reads as a command.
    debug: (message) => core.debug(printable(message)),
    info: (message) => core.info(printable(message)),
    warning: (message, title) => core.warning(printable(message), title ? { title } : {}),
    group: (name, fn) => core.group(name, fn),
    secret: (value) => core.setSecret(value),
  };
}
