import { expect, test } from 'vitest';
import type { Credential } from '../src/registry/auth.js';
import { basicAuthorization } from '../src/registry/auth.js';
import { Authorizer } from '../src/registry/authorizer.js';
import type { HttpRequest, HttpResponse, Transport } from '../src/registry/http.js';
import { recordingLogger } from './helpers/client.js';
import { fakeClock } from './helpers/fake-clock.js';

/** A scripted token server: answers each request with the next scripted response, and records them. */
function scripted(answers: ((req: HttpRequest) => HttpResponse)[]): Transport & { seen: HttpRequest[] } {
  const seen: HttpRequest[] = [];
  return {
    seen,
    async send(req) {
      seen.push(req);
      const answer = answers.shift();
      if (!answer) throw new Error(`unexpected request ${req.method} ${req.url}`);
      return answer(req);
    },
    async stream() {
      throw new Error('not used');
    },
  };
}

const json = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(body)),
});
const CHALLENGE = 'Bearer realm="https://auth.example/token",service="reg.example"';
const pull = { repository: 'org/app', actions: ['pull'] } as const;

function authorizer(credential: Credential | undefined, transport: Transport, clock = fakeClock()) {
  const log = recordingLogger();
  return {
    log,
    auth: new Authorizer('reg.example', 'https://reg.example', async () => credential, transport, clock, log),
  };
}

test('an identity token is exchanged with a POST; where POST is refused, with GET and Basic', async () => {
  const transport = scripted([() => json(405, {}), () => json(200, { token: 'tok-1', expires_in: 300 })]);
  const { auth, log } = authorizer({ kind: 'identity-token', token: 'refresh-secret' }, transport);
  expect(await auth.challenged(CHALLENGE, undefined)).toBe(true);
  expect(await auth.header(pull)).toBe('Bearer tok-1');
  const [post, get] = transport.seen;
  expect(post?.method).toBe('POST');
  expect(String(post?.body)).toContain('grant_type=refresh_token');
  expect(String(post?.body)).toContain('refresh_token=refresh-secret');
  expect(get?.method).toBe('GET');
  expect(get?.headers['authorization']).toBe(basicAuthorization('<token>', 'refresh-secret'));
  expect(new URL(get?.url ?? '').searchParams.getAll('scope')).toEqual(['repository:org/app:pull']);
  // Both secrets were handed to the masker the moment they appeared.
  log.info('refresh-secret tok-1');
  expect(log.lines.at(-1)).toBe('info *** ***');
});

test('a token is reused while it covers the scope and is fresh, and renewed before it lapses', async () => {
  const clock = fakeClock();
  const transport = scripted([
    () => json(200, { token: 'tok-1', expires_in: 60 }),
    () => json(200, { access_token: 'tok-2', expires_in: 60 }),
  ]);
  const { auth } = authorizer({ kind: 'basic', username: 'u', password: 'p' }, transport, clock);
  await auth.challenged(CHALLENGE, undefined);
  expect(await auth.header(pull)).toBe('Bearer tok-1');
  expect(await auth.header(pull)).toBe('Bearer tok-1');
  expect(transport.seen).toHaveLength(1);
  expect(transport.seen[0]?.headers['authorization']).toBe(basicAuthorization('u', 'p'));
  await clock.sleep(51_000); // within the 10 s margin of its 60 s life
  expect(await auth.header(pull)).toBe('Bearer tok-2');
  expect(transport.seen).toHaveLength(2);
});

test('a refused Bearer token is dropped once; a refused Basic password is final', async () => {
  const transport = scripted([() => json(200, { token: 'tok-1' }), () => json(200, { token: 'tok-2' })]);
  const { auth } = authorizer({ kind: 'basic', username: 'u', password: 'p' }, transport);
  await auth.challenged(CHALLENGE, undefined);
  const first = await auth.header(pull);
  expect(await auth.challenged(`${CHALLENGE},error="invalid_token"`, first)).toBe(true);
  expect(await auth.header(pull)).toBe('Bearer tok-2');

  const basic = authorizer({ kind: 'basic', username: 'u', password: 'wrong' }, scripted([])).auth;
  expect(await basic.challenged('Basic realm="r"', undefined)).toBe(true);
  const sent = await basic.header(pull);
  expect(sent).toBe(basicAuthorization('u', 'wrong'));
  expect(await basic.challenged('Basic realm="r"', sent)).toBe(false);
  // Anonymous callers cannot answer a Basic challenge at all.
  expect(await authorizer(undefined, scripted([])).auth.challenged('Basic realm="r"', undefined)).toBe(false);
});
