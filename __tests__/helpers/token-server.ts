import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './local.js';

/**
 * A token server implementing the Docker registry token auth spec (GET and OAuth2 POST) closely enough
 * for the CNCF registry's `auth.token` mode, and recording every request so tests can count token round trips.
 */

export interface TokenRequestRecord {
  method: 'GET' | 'POST';
  /** Raw scope strings, one per scope asked for. */
  scopes: string[];
  /** '' when the request named no service. */
  service: string;
  /** The authenticated user (Basic, password or refresh grant), else the `account` query parameter. */
  account: string | undefined;
  /** POST only: `password` or `refresh_token`. */
  grantType: string | undefined;
  /** True when valid credentials or a valid refresh token were presented. */
  authorized: boolean;
}

export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServer {
  readonly url: string;
  readonly requests: TokenRequestRecord[];
  /** Signs a JWT directly, without an HTTP request (so `requests` stays clean). */
  mint(access: TokenAccess[], ttlSeconds?: number): string;
  issueRefreshToken(username: string): string;
  close(): Promise<void>;
}

export interface TokenServerOptions {
  keyPem: string;
  certPem: string;
  service: string;
  issuer: string;
  users: Record<string, string>;
  /**
   * The repositories a user's tokens may reach (as a package-scoped token on GHCR); a user not listed here gets
   * whatever scope it asks for.
   */
  repositories?: Record<string, readonly string[]>;
  ttlSeconds?: number;
}

const DEFAULT_TTL_SECONDS = 300;

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(options.keyPem);
  const x5c = [new X509Certificate(options.certPem).raw.toString('base64')];
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const requests: TokenRequestRecord[] = [];
  const refreshTokens = new Map<string, string>();

  const mint = (access: TokenAccess[], ttlSeconds = ttl, subject = ''): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c };
    const claims = {
      iss: options.issuer,
      sub: subject,
      // distribution 2.8 decodes `aud` as a single string, so an array would be rejected.
      aud: options.service,
      exp: now + ttlSeconds,
      nbf: now - 5,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JOSE wants the raw r||s pair, not the DER structure node produces by default.
    const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  };

  const issueRefreshToken = (username: string): string => {
    const token = randomBytes(24).toString('base64url');
    refreshTokens.set(token, username);
    return token;
  };

  /** What a user is granted of the scopes it asked for. */
  const grant = (username: string, scopes: string[]): TokenAccess[] => {
    const allowed = options.repositories?.[username];
    const access = parseScopes(scopes);
    return allowed ? access.filter((a) => a.type === 'repository' && allowed.includes(a.name)) : access;
  };

  const checkPassword = (username: string, password: string): boolean =>
    Object.hasOwn(options.users, username) && options.users[username] === password;

  const handleGet = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void => {
    const scopes = query.getAll('scope');
    const service = query.get('service') ?? '';
    const basic = parseBasic(req.headers.authorization);
    const authorized = basic !== undefined && checkPassword(basic.username, basic.password);
    requests.push({
      method: 'GET',
      scopes,
      service,
      account: basic?.username ?? query.get('account') ?? undefined,
      grantType: undefined,
      authorized,
    });
    if (!checkService(res, service)) return;
    if (basic !== undefined && !authorized) {
      unauthorized(res);
      return;
    }
    // Anonymous callers still get a token, just with no access: that is how Docker Hub treats private repos.
    const access = authorized ? grant(basic.username, scopes) : [];
    const token = mint(access, ttl, basic?.username ?? '');
    const offline = authorized && query.get('offline_token') === 'true';
    sendJson(res, 200, {
      token,
      access_token: token,
      expires_in: ttl,
      issued_at: new Date().toISOString(),
      ...(offline ? { refresh_token: issueRefreshToken(basic.username) } : {}),
    });
  };

  const handlePost = (res: ServerResponse, form: URLSearchParams): void => {
    const grantType = form.get('grant_type') ?? undefined;
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
    const service = form.get('service') ?? '';
    let account: string | undefined;
    let authorized = false;
    if (grantType === 'password') {
      account = form.get('username') ?? undefined;
      authorized = account !== undefined && checkPassword(account, form.get('password') ?? '');
    } else if (grantType === 'refresh_token') {
      account = refreshTokens.get(form.get('refresh_token') ?? '');
      authorized = account !== undefined;
    }
    requests.push({ method: 'POST', scopes, service, account, grantType, authorized });
    if (!checkService(res, service)) return;
    if (grantType !== 'password' && grantType !== 'refresh_token') {
      sendJson(res, 400, { error: 'unsupported_grant_type' });
    } else if (!authorized || account === undefined) {
      unauthorized(res);
    } else {
      sendJson(res, 200, {
        access_token: mint(grant(account, scopes), ttl, account),
        expires_in: ttl,
        scope: scopes.join(' '),
        ...(form.get('access_type') === 'offline' ? { refresh_token: issueRefreshToken(account) } : {}),
      });
    }
  };

  // A service name that doesn't match would produce a token the registry rejects; fail loudly instead.
  const checkService = (res: ServerResponse, service: string): boolean => {
    if (service === '' || service === options.service) return true;
    sendJson(res, 400, { errors: [{ code: 'DENIED', message: `unknown service ${service}` }] });
    return false;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/token') {
        sendJson(res, 404, { error: 'not found' });
      } else if (req.method === 'GET') {
        handleGet(req, res, url.searchParams);
      } else if (req.method === 'POST') {
        handlePost(res, new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      } else {
        sendJson(res, 405, { error: 'method not allowed' });
      }
    });
  });
  const port = await listenOnLoopback(server);

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/token`,
    requests,
    mint: (access, ttlSeconds) => mint(access, ttlSeconds),
    issueRefreshToken,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * Parses `type:name:actions` scopes. The name may itself contain ':' (never for repositories, but the spec
 * allows it for other types), so the type ends at the first colon and the actions start after the last one.
 * Scopes for the same resource are merged.
 */
export function parseScopes(scopes: string[]): TokenAccess[] {
  const byResource = new Map<string, TokenAccess>();
  for (const scope of scopes) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const actions = scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== '');
    const key = `${type}:${name}`;
    const entry = byResource.get(key) ?? { type, name, actions: [] };
    for (const action of actions) if (!entry.actions.includes(action)) entry.actions.push(action);
    byResource.set(key, entry);
  }
  return [...byResource.values()];
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { username: decoded, password: '' };
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function unauthorized(res: ServerResponse): void {
  sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
  res.end(bytes);
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
