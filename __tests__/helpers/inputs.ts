import { type Inputs, parseInputs } from '../../src/inputs.js';

/** Inputs as the action would parse them from these raw values (unset ones get their defaults). */
export function inputsFrom(raw: Record<string, string>): Inputs {
  return parseInputs({ read: (name) => raw[name] ?? '', listDir: () => [], secret: () => {} });
}
