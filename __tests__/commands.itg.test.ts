import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ActionResult,
  errorLine,
  FAST,
  type ProcessResult,
  runAction,
  runCli,
} from './helpers/action.js';
import { type HostileServer, registryError, startHostile } from './helpers/hostile.js';
import { type PushedImage, pushImages, served, sourcesOf } from './helpers/images.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

/**
 * SPEC Guarantees 6 and 7 as the runner reads a step's output: it runs `::name::` commands at the start of a
 * line and the legacy `##[name …]` ones anywhere in a line, on stdout and stderr alike, and it masks secrets
 * line by line. Values from inputs and registries reach the log, the last error line and the CLI's JSON.
 */

/** Lines the runner would run as a legacy command: `##[` anywhere. */
function legacyCommands(result: ProcessResult): string[] {
  return [...result.stdout.split('\n'), ...result.stderr.split('\n')].filter((line) => line.includes('##['));
}

/** Commands this action issues itself; any other `::` line came from a value. */
const OWN_COMMANDS = /^::(add-mask|group|endgroup|debug|warning|error)( [^:]*)?::/;

function foreignCommands(result: ProcessResult): string[] {
  return [...result.stdout.split('\n'), ...result.stderr.split('\n')].filter(
    (line) => /^\s*::/.test(line) && !OWN_COMMANDS.test(line),
  );
}

/** The values the runner was told to mask, decoded as the runner decodes command data. */
function masks(result: ActionResult): string[] {
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) =>
      line.slice('::add-mask::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'),
    );
}

/** The log as the runner shows it: each line with every mask it knows replaced, as it matches them per line. */
function asShown(result: ActionResult): string {
  const known = masks(result).sort((a, b) => b.length - a.length);
  return [...result.stdout.split('\n'), ...result.stderr.split('\n')]
    .filter((line) => !line.startsWith('::add-mask::'))
    .map((line) => known.reduce((shown, mask) => shown.split(mask).join('***'), line))
    .join('\n');
}

const hostiles: HostileServer[] = [];
afterAll(async () => {
  await Promise.all(hostiles.map((server) => server.close()));
});

describe('legacy ##[ commands in what the action and the CLI print', () => {
  let reg: TestRegistry;
  let images: PushedImage[];
  const repo = 'commands/app';

  beforeAll(async () => {
    reg = await startRegistry();
    images = await pushImages(reg, repo, { seed: 'commands' });
  });
  afterAll(() => reg?.stop());

  test(
    'an annotations line of another level is echoed with its ##[ broken up',
    async () => {
      const result = await runAction({
        image: `${reg.host}/${repo}`,
        tags: 'v1',
        sources: sourcesOf(images),
        annotations: 'manifest:org.example.note=##[add-mask]the-digest ##[set-output name=digest;]sha256:0',
      });
      expect(result.code, result.stdout).toBe(0);
      // The line is shown (with the bracket escaped), so the user sees what was left out.
      expect(result.stdout).toContain('org.example.note=##\\[add-mask]the-digest ##\\[set-output');
      expect(legacyCommands(result)).toEqual([]);
      expect(foreignCommands(result)).toEqual([]);
      expect(await served(reg, repo, 'v1')).toBe(result.outputs['digest']);
    },
    FAST,
  );

  test(
    "an os.version in a source's platform prefix reaches the failure line with its ##[ broken up",
    async () => {
      const digest = images[0]?.digest ?? '';
      const result = await runAction({
        image: `${reg.host}/${repo}`,
        tags: 'v2',
        sources: `linux/amd64:##[stop-commands]tok=${digest}`,
      });
      expect(result.code, result.stdout).toBe(1);
      expect(errorLine(result)).toContain('##\\[stop-commands]tok');
      expect(legacyCommands(result)).toEqual([]);
      expect(foreignCommands(result)).toEqual([]);
      expect(await served(reg, repo, 'v2')).toBeNull();
    },
    FAST,
  );

  test(
    "the CLI's stdout JSON carries an annotation's ##[ as \\u005b and still parses to the annotation",
    async () => {
      const note = '##[set-output name=digest;]sha256:0 ##[add-mask]x';
      const result = await runCli([
        '--image',
        `${reg.host}/${repo}`,
        '--tag',
        'v3',
        '--source',
        images[0]?.digest ?? '',
        '--source',
        images[1]?.digest ?? '',
        '--annotations',
        `index:org.example.note=${note}`,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(legacyCommands(result)).toEqual([]);
      const outputs = JSON.parse(result.stdout) as { manifest: string };
      const index = JSON.parse(outputs.manifest) as { annotations: Record<string, string> };
      expect(index.annotations['org.example.note']).toBe(note);
      expect(await served(reg, repo, 'v3')).not.toBeNull();
    },
    FAST,
  );

  test(
    "a registry's error message reaches the action's failure line and the CLI's last line with ##[ broken up",
    async () => {
      const server = await startHostile({
        handler: () =>
          registryError(
            403,
            'DENIED',
            'denied ##[add-mask]denied ##[set-output name=digest;]sha256:0 ##[stop-commands]tok',
          ),
      });
      hostiles.push(server);
      const image = `${server.host}/app`;
      const digest = images[0]?.digest ?? '';

      const action = await runAction({ image, tags: 'v1', sources: digest });
      expect(action.code, action.stdout).toBe(1);
      expect(errorLine(action)).toContain('denied ##\\[add-mask]denied');
      expect(legacyCommands(action)).toEqual([]);
      expect(foreignCommands(action)).toEqual([]);

      const cli = await runCli(['--image', image, '--tag', 'v1', '--source', digest]);
      expect(cli.code, cli.stderr).toBe(1);
      const last = cli.stderr.trimEnd().split('\n').at(-1) ?? '';
      expect(last).toContain('denied ##\\[add-mask]denied');
      expect(legacyCommands(cli)).toEqual([]);
      expect(foreignCommands(cli)).toEqual([]);
    },
    FAST,
  );
});

describe('multi-line secrets', () => {
  const password = 'first-line-of-the-key\nsecond-line-of-the-key';

  /** A registry that asks for Basic credentials and quotes the password it was sent, one line at a time. */
  async function echoingRegistry(): Promise<HostileServer> {
    const server = await startHostile({
      handler: (req) =>
        req.headers['authorization']
          ? registryError(403, 'DENIED', `password lines: ${password.split('\n').join(' / ')}`)
          : registryError(401, 'UNAUTHORIZED', 'authentication required', {
              'www-authenticate': 'Basic realm="hostile"',
            }),
    });
    hostiles.push(server);
    return server;
  }

  test(
    'each line of a password is masked in the action, as the runner matches masks line by line',
    async () => {
      const server = await echoingRegistry();
      const result = await runAction({
        image: `${server.host}/app`,
        tags: 'v1',
        sources: `sha256:${'a'.repeat(64)}`,
        username: 'ci-user',
        password,
      });
      expect(result.code, result.stdout).toBe(1);
      expect(errorLine(result)).toContain('password lines:');
      // The password was sent, so the echo is the registry's.
      expect(server.log.some((entry) => entry.headers['authorization']?.startsWith('Basic '))).toBe(true);
      const shown = asShown(result);
      expect(shown).toContain('password lines: *** / ***');
      for (const line of password.split('\n')) expect(shown).not.toContain(line);
    },
    FAST,
  );

  test(
    "each line of a password is masked in the CLI's own masker",
    async () => {
      const server = await echoingRegistry();
      const result = await runCli(
        [
          '--image',
          `${server.host}/app`,
          '--tag',
          'v1',
          '--source',
          `sha256:${'a'.repeat(64)}`,
          '--username',
          'ci-user',
          '--password-stdin',
        ],
        { stdin: `${password}\n` },
      );
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('password lines: *** / ***');
      for (const line of password.split('\n')) expect(result.stderr).not.toContain(line);
    },
    FAST,
  );
});
