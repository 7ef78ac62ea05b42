import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { InputError } from '../../src/input-names.js';
import { type InputSources, type Inputs, parseInputs } from '../../src/inputs.js';
import { platformKey } from '../../src/platform.js';
import { canonicalName } from '../../src/registry/reference.js';
import { isTagged, type SourceInput } from '../../src/sources.js';

/** Inputs as the action would parse them from these raw values (unset ones get their defaults). */
export function inputsFrom(raw: Record<string, string>): Inputs {
  return parseInputs({ read: (name) => raw[name] ?? '', listDir: () => [], secret: () => {} });
}

export const A = 'a'.repeat(64);
export const B = 'b'.repeat(64);
export const C = 'c'.repeat(64);
export const IMAGE = 'ghcr.io/org/app';

export type Values = Partial<Record<string, string>>;

export const BASE: Values = { image: IMAGE, tags: 'latest', sources: `sha256:${A}` };

/** A reader over plain values, recording what was read and masked, in order. */
export function fake(values: Values, listDir: (path: string) => string[] = readdirSync) {
  const events: string[] = [];
  const secrets: string[] = [];
  const source: InputSources = {
    read: (name) => {
      events.push(`read:${name}`);
      return values[name] ?? '';
    },
    listDir,
    secret: (value) => {
      events.push('secret');
      secrets.push(value);
    },
  };
  return { source, events, secrets };
}

export function parse(values: Values): Inputs {
  return parseInputs(fake(values).source);
}

export function failure(values: Values): InputError {
  try {
    parseInputs(fake(values).source);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error(`expected an InputError for ${JSON.stringify(values)}`);
}

/** The digest of a source entry; undefined for one given by tag (pinned only when a run starts). */
export function digestOf(entry: SourceInput | undefined): string | undefined {
  return entry === undefined || isTagged(entry) ? undefined : entry.digest;
}

/** Sources without their display text, which differs by form on purpose. */
export function shape(entries: readonly SourceInput[]) {
  return entries.map((e) => ({
    repository: canonicalName(e.repository),
    ...(isTagged(e) ? { tag: e.tag } : { digest: e.digest }),
    platform: e.platform ? platformKey(e.platform) : undefined,
  }));
}

/** A temporary folder holding empty files of these names, removed after the test file. */
export function digestDir(files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'inputs-test-'));
  tempDirs.push(dir);
  for (const file of files) writeFileSync(join(dir, file), '');
  return dir;
}
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
