import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  actionsLogger,
  appendSummary,
  flushOutput,
  getInput,
  setFailed,
  setOutput,
  workflowCommand,
} from '../src/actions-log.js';
import { printable, secretParts } from '../src/log.js';

/**
 * The action writes the runner's protocol itself instead of loading @actions/core (and its HTTP client) at every
 * start. These tests hold it to @actions/core's output, byte for byte, on the values that need escaping.
 */

const AWKWARD = [
  '',
  'plain',
  'percent % and %25 and %0A',
  'line\nbreak and \r\n and \r',
  'colon: comma, both:,',
  '::warning::inside',
  'unicode \u2026 \u00e9 \u{1f600}',
  '  spaces  ',
];

let written: string[];
let saved: Record<string, string | undefined>;
let dir: string;

beforeEach(() => {
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  saved = {
    GITHUB_OUTPUT: process.env['GITHUB_OUTPUT'],
    GITHUB_STEP_SUMMARY: process.env['GITHUB_STEP_SUMMARY'],
    exitCode: process.exitCode === undefined ? undefined : String(process.exitCode),
  };
  dir = mkdtempSync(join(tmpdir(), 'mm-actions-log-'));
});

afterEach(() => {
  // Anything a test left gathered goes to the spy, not to the test run's output.
  flushOutput();
  vi.restoreAllMocks();
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  process.exitCode = saved['exitCode'] === undefined ? undefined : Number(saved['exitCode']);
  rmSync(dir, { recursive: true, force: true });
});

/** What `fn` writes to stdout. */
function stdoutOf(fn: () => void): string {
  written = [];
  fn();
  flushOutput();
  return written.join('');
}

const DEBUG = { RUNNER_DEBUG: '1' };

describe('workflow commands, as @actions/core writes them', () => {
  test.each(AWKWARD)('log lines and commands for %j', (text) => {
    const log = actionsLogger(undefined, DEBUG);
    expect(stdoutOf(() => log.debug(text))).toBe(stdoutOf(() => core.debug(printable(text))));
    expect(stdoutOf(() => log.info(text))).toBe(stdoutOf(() => core.info(printable(text))));
    expect(stdoutOf(() => log.warning(text))).toBe(stdoutOf(() => core.warning(printable(text), {})));
    expect(stdoutOf(() => log.warning(text, `title ${text}`))).toBe(
      stdoutOf(() => core.warning(printable(text), { title: `title ${text}` })),
    );
    // Each part a mask of its own: the runner matches masks line by line.
    expect(stdoutOf(() => log.secret(text))).toBe(
      stdoutOf(() => {
        for (const part of secretParts(text)) core.setSecret(part);
      }),
    );
    expect(stdoutOf(() => setFailed(text))).toBe(stdoutOf(() => core.setFailed(text)));
  });

  test('properties: empty values are left out, the space stays as with @actions/core', () => {
    expect(workflowCommand('warning', { title: '' }, 'm')).toBe('::warning ::m');
    expect(workflowCommand('warning', {}, 'm')).toBe('::warning::m');
    expect(workflowCommand('warning', { title: 'a:b,c', file: undefined }, 'm')).toBe(
      '::warning title=a%3Ab%2Cc::m',
    );
  });

  test('groups fold around the function and end even when it throws', async () => {
    const log = actionsLogger(undefined, DEBUG);
    written = [];
    await expect(
      log.group('name\nwith: break', async () => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    flushOutput();
    const ours = written.join('');
    written = [];
    await expect(
      core.group('name\nwith: break', async () => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(ours).toBe(written.join(''));
    expect(await log.group('g', async () => 42)).toBe(42);
  });

  test('debug lines only when the runner shows them (RUNNER_DEBUG=1)', () => {
    expect(stdoutOf(() => actionsLogger(undefined, {}).debug('hidden'))).toBe('');
    expect(stdoutOf(() => actionsLogger(undefined, DEBUG).debug('shown'))).toBe('::debug::shown\n');
  });

  test('lines are gathered and written at once, in order, on the next turn of the event loop; secrets at once', async () => {
    const log = actionsLogger(undefined, DEBUG);
    written = [];
    log.info('one');
    log.debug('two');
    expect(written).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual(['one\n::debug::two\n']);
    // A secret is handed to the runner at once, with whatever was gathered before it.
    log.info('three');
    log.secret('s3cret');
    expect(written).toEqual(['one\n::debug::two\n', 'three\n::add-mask::s3cret\n']);
  });

  test('setFailed sets exit code 1', () => {
    process.exitCode = undefined;
    stdoutOf(() => setFailed('no'));
    expect(process.exitCode).toBe(1);
  });
});

describe('inputs, outputs and the job summary', () => {
  test('inputs: the INPUT_ variable, spaces as _, upper case, trimmed, empty when unset', () => {
    const env = { 'INPUT_WAIT-TIMEOUT': '  90s \n', INPUT_TWO_WORDS: 'x', INPUT_EMPTY: '' };
    for (const name of ['wait-timeout', 'two words', 'empty', 'missing']) {
      const real = process.env;
      process.env = { ...env };
      try {
        expect(getInput(name, env)).toBe(core.getInput(name));
      } finally {
        process.env = real;
      }
    }
  });

  test.each(AWKWARD)('GITHUB_OUTPUT block for %j, the same but for the random delimiter', (value) => {
    const file = join(dir, 'output');
    writeFileSync(file, '');
    process.env['GITHUB_OUTPUT'] = file;
    setOutput('name', value);
    core.setOutput('name', value);
    const [ours, theirs] = readFileSync(file, 'utf8')
      .replace(/ghadelimiter_[0-9a-f-]{36}/g, 'DELIMITER')
      .split(/(?<=^DELIMITER\n)/m);
    expect(ours).toBe(theirs);
    expect(ours).toBe(`name<<DELIMITER\n${value}\nDELIMITER\n`);
  });

  test('without GITHUB_OUTPUT: the old set-output command; a missing file is refused as @actions/core does', () => {
    delete process.env['GITHUB_OUTPUT'];
    expect(stdoutOf(() => setOutput('n:a,m', 'v\nw'))).toBe(stdoutOf(() => core.setOutput('n:a,m', 'v\nw')));
    process.env['GITHUB_OUTPUT'] = join(dir, 'nothing-here');
    expect(() => setOutput('a', 'b')).toThrow(
      (() => {
        try {
          core.setOutput('a', 'b');
        } catch (error) {
          return (error as Error).message;
        }
        return 'core did not throw';
      })(),
    );
  });

  test('the summary is appended as @actions/core appends it', async () => {
    const file = join(dir, 'summary');
    writeFileSync(file, 'before\n');
    process.env['GITHUB_STEP_SUMMARY'] = file;
    appendSummary('| a | b |\n');
    await core.summary.addRaw('| a | b |\n').write();
    expect(readFileSync(file, 'utf8')).toBe('before\n| a | b |\n| a | b |\n');
    delete process.env['GITHUB_STEP_SUMMARY'];
    expect(() => appendSummary('x')).toThrow(/GITHUB_STEP_SUMMARY/);
    process.env['GITHUB_STEP_SUMMARY'] = join(dir, 'missing');
    expect(() => appendSummary('x')).toThrow(/Unable to access summary file/);
  });
});
