import * as core from '@actions/core';
import type { Logger } from './log.js';

/** The Logger backed by @actions/core: groups fold in the run log, secrets are masked by the runner. */
export function actionsLogger(): Logger {
  return {
    debug: (message) => core.debug(message),
    info: (message) => core.info(message),
    warning: (message, title) => core.warning(message, title ? { title } : {}),
    group: (name, fn) => core.group(name, fn),
    secret: (value) => core.setSecret(value),
  };
}
