import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { onDemand } from '../src/github.js';
import { type OwnedTransport, undiciTransport } from '../src/registry/transport.js';
import { listenOnLoopback } from './helpers/local.js';

/**
 * The compare call through @actions/github against scripted loopback servers: the repository and API URL from the
 * run's context, the token to the API origin only (a redirect elsewhere is not followed), and loaded on demand.
 */

const TOKEN = 'ghs_unit-token-1234';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

let api: Server;
let apiUrl: string;
let handle: (req: IncomingMessage, res: ServerResponse) => void;
let seen: IncomingMessage[];
let elsewhere: Server;
let elsewhereUrl: string;
let elsewhereSeen: IncomingMessage[];
const transports: OwnedTransport[] = [];
let warnings: string[];

beforeAll(async () => {
  api = createServer((req, res) => {
    seen.push(req);
    handle(req, res);
  });
  elsewhere = createServer((req, res) => {
    elsewhereSeen.push(req);
    res.end('{}');
  });
  apiUrl = `http://127.0.0.1:${await listenOnLoopback(api)}`;
  elsewhereUrl = `http://127.0.0.1:${await listenOnLoopback(elsewhere)}`;
});
beforeEach(() => {
  warnings = [];
  seen = [];
  elsewhereSeen = [];
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
});
afterAll(() => {
  vi.unstubAllEnvs();
  for (const server of [api, elsewhere]) {
    server.closeAllConnections();
    server.close();
  }
});

/** The chunk as the action loads it; the context is read once per process, as in a run. */
async function client() {
  vi.stubEnv('GITHUB_API_URL', `${apiUrl}/api/v3`);
  vi.stubEnv('GITHUB_REPOSITORY', 'org/app');
  const transport = undiciTransport({ timeoutMs: 5_000, connections: 1 });
  transports.push(transport);
  const { gitHubApi } = await import('../src/github-octokit.js');
  return gitHubApi({ token: TOKEN, transport, warn: (message) => warnings.push(message) });
}

test('asks the API of the context for the repository of the context, with the token, one commit per page', async () => {
  handle = (_, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'ahead', ahead_by: 3 }));
  };
  const github = await client();

  expect(await github.compare(A, B)).toBe('ahead');
  expect(seen.map((req) => req.url)).toEqual([`/api/v3/repos/org/app/compare/${A}...${B}?per_page=1`]);
  expect(seen[0]?.headers['authorization']).toBe(`token ${TOKEN}`);
});

test("octokit's warnings (a deprecated endpoint) go to the run's logger, not straight to the console", async () => {
  const write = vi.spyOn(process.stderr, 'write');
  handle = (_, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      deprecation: 'true',
      sunset: '##[add-mask]x',
      link: '<https://docs.example/>; rel="deprecation"',
    });
    res.end(JSON.stringify({ status: 'behind' }));
  };
  const github = await client();

  expect(await github.compare(A, B)).toBe('behind');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('is deprecated. It is scheduled to be removed on ##[add-mask]x');
  expect(write).not.toHaveBeenCalled();
  write.mockRestore();
});

test('a redirect to another origin is not followed: the token stays with the API, and the answer is an error', async () => {
  handle = (_, res) => {
    res.writeHead(307, { location: `${elsewhereUrl}/steal` });
    res.end();
  };
  const github = await client();

  await expect(github.compare(A, B)).rejects.toThrow(
    `GitHub's compare API answered 307 for org/app ${A}...${B}`,
  );
  expect(seen).toHaveLength(1);
  expect(elsewhereSeen).toEqual([]);
});

test('an answer refused by octokit names the status and the fix', async () => {
  handle = (_, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Not Found' }));
  };
  const github = await client();

  await expect(github.compare(A, B)).rejects.toThrow(
    `GitHub's compare API answered 404 for org/app ${A}...${B}: a revision is not in this repository`,
  );
});

test('loaded on demand: once, at the first compare or when preloaded, never for a run that asks nothing', async () => {
  const answers: string[] = [];
  const load = vi.fn(async () => ({
    compare: async (base: string, head: string) => {
      answers.push(`${base}...${head}`);
      return 'behind' as const;
    },
  }));
  onDemand(load);
  expect(load).not.toHaveBeenCalled();

  const api = onDemand(load);
  api.preload();
  expect(await api.compare('x', 'y')).toBe('behind');
  expect(await api.compare('y', 'z')).toBe('behind');
  expect(load).toHaveBeenCalledTimes(1);
  expect(answers).toEqual(['x...y', 'y...z']);
});
