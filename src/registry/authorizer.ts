import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import {
  basicAuthorization,
  type Credential,
  type CredentialSource,
  parseChallenges,
  type Scope,
  ScopeSet,
} from './auth.js';
import { MAX_ERROR_BODY, parseErrorBody, RegistryError, redactUrl } from './errors.js';
import type { Transport } from './http.js';
import { isLoopback } from './loopback.js';

interface Token {
  readonly scopes: ScopeSet;
  readonly value: string;
  readonly expiresAt: number;
}

/** Tokens are renewed this long before they expire, so a request never starts with a token about to lapse. */
const EXPIRY_MARGIN_MS = 10_000;
/** Used when a token server gives no `expires_in` (the token spec's default). */
const DEFAULT_TOKEN_TTL_S = 60;
const MAX_TOKEN_BODY = 64 * 1024;

/**
 * Authorization for one registry host, driven by its challenge: requests start anonymous; a 401 tells whether
 * to send Basic or fetch a Bearer token. Tokens are cached by scope set; concurrent requests share one fetch.
 */
export class Authorizer {
  private scheme: 'unknown' | 'basic' | 'bearer' = 'unknown';
  private realm = '';
  private service: string | undefined;
  /** Every scope asked for so far: each token asks for all of them, so one token serves the whole run. */
  private readonly wanted = new ScopeSet();
  private tokens: Token[] = [];
  private readonly inflight = new Map<string, Promise<Token>>();
  private credential: Promise<Credential | undefined> | undefined;

  constructor(
    private readonly registry: string,
    /** The registry's origin (`https://host:port`): decides which token realms may receive credentials. */
    private readonly origin: string,
    private readonly credentials: CredentialSource,
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Declares scopes ahead of the first request, so the first token already covers them all. */
  declare(scope: Scope): void {
    this.wanted.add(scope);
  }

  /** The `Authorization` value to send for a request needing these scopes, or undefined to go anonymous. */
  async header(...scopes: Scope[]): Promise<string | undefined> {
    for (const scope of scopes) this.wanted.add(scope);
    if (this.scheme === 'basic') {
      const credential = await this.lookup();
      return credential?.kind === 'basic'
        ? basicAuthorization(credential.username, credential.password)
        : undefined;
    }
    if (this.scheme !== 'bearer') return undefined;
    const now = this.clock.now();
    const cached = this.tokens.find(
      (t) => scopes.every((scope) => t.scopes.covers(scope)) && t.expiresAt - EXPIRY_MARGIN_MS > now,
    );
    const token = cached ?? (await this.fetchToken(this.wanted.clone()));
    return `Bearer ${token.value}`;
  }

  /**
   * Learns from a 401. Returns true when the request is worth sending once more with a fresh header: the first
   * challenge, or a Bearer token that was refused (expired or too narrow) and is now dropped.
   */
  async challenged(wwwAuthenticate: string | undefined, sent: string | undefined): Promise<boolean> {
    const challenges = parseChallenges(wwwAuthenticate ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
    if (bearer) {
      this.scheme = 'bearer';
      this.realm = this.checkedRealm(bearer.params['realm'] ?? '');
      this.service = bearer.params['service'];
      // A challenge may name the scope the request needs (e.g. another repository's pull for a mount): ask for it.
      for (const scope of repositoryScopes(bearer.params['scope'] ?? '')) this.wanted.add(scope);
      if (sent?.startsWith('Bearer ')) {
        const value = sent.slice('Bearer '.length);
        this.tokens = this.tokens.filter((t) => t.value !== value);
      }
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (sent?.startsWith('Basic ')) return false;
      this.scheme = 'basic';
      return (await this.lookup())?.kind === 'basic';
    }
    return false;
  }

  /**
   * The realm receives the credentials, so it must be HTTPS; plain HTTP only when the registry itself is plain
   * HTTP on this machine and so is the realm (a test or local registry).
   */
  private checkedRealm(realm: string): string {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new Error(
        `${this.registry} asks for tokens from ${JSON.stringify(realm.slice(0, 100))}, which is not a URL: check the registry's auth setup`,
      );
    }
    const registry = new URL(this.origin);
    const localHttp = registry.protocol === 'http:' && isLoopback(registry.host) && isLoopback(url.host);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && localHttp)) {
      throw new Error(
        `${this.registry} asks for tokens from ${redactUrl(realm)}, which is not HTTPS: refusing to send ` +
          'credentials there. Fix the registry\'s token realm, or check that "image" names the right registry',
      );
    }
    return url.toString();
  }

  private lookup(): Promise<Credential | undefined> {
    this.credential ??= this.credentials(this.registry).then((credential) => {
      if (credential?.kind === 'basic') this.log.secret(credential.password);
      if (credential?.kind === 'identity-token') this.log.secret(credential.token);
      return credential;
    });
    return this.credential;
  }

  private fetchToken(scopes: ScopeSet): Promise<Token> {
    const key = scopes.key();
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.requestToken(scopes).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async requestToken(scopes: ScopeSet): Promise<Token> {
    const credential = await this.lookup();
    const url = new URL(this.realm);
    const scopeStrings = scopes.toStrings();
    const started = this.clock.now();
    let method: 'GET' | 'POST' = 'POST';
    let response: Awaited<ReturnType<Transport['send']>> | undefined;
    if (credential?.kind === 'identity-token') {
      // An identity token is an OAuth2 refresh token: exchange it with a POST (the token spec's OAuth flow).
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.token,
        client_id: 'manifest-merge',
        scope: scopeStrings.join(' '),
      });
      if (this.service) form.set('service', this.service);
      response = await this.transport.send(
        {
          method,
          url: url.toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        },
        MAX_TOKEN_BODY,
      );
    }
    // Token servers without the OAuth flow refuse the POST (404, 405; ACR 400, Artifactory 401): ask with GET and
    // Basic, the identity token as password.
    if (!response || [400, 401, 404, 405].includes(response.status)) {
      method = 'GET';
      if (this.service) url.searchParams.set('service', this.service);
      for (const scope of scopeStrings) url.searchParams.append('scope', scope);
      const headers: Record<string, string> = {};
      if (credential?.kind === 'basic') {
        headers['authorization'] = basicAuthorization(credential.username, credential.password);
      } else if (credential?.kind === 'identity-token') {
        headers['authorization'] = basicAuthorization(credential.username ?? '<token>', credential.token);
      }
      response = await this.transport.send({ method, url: url.toString(), headers }, MAX_TOKEN_BODY);
    }
    if (response.status !== 200) {
      const text = Buffer.from(response.body.subarray(0, MAX_ERROR_BODY)).toString('utf8');
      throw new RegistryError({
        method,
        url: url.toString(),
        status: response.status,
        codes: parseErrorBody(text),
        hint:
          response.status === 401 || response.status === 403
            ? `the token server for ${this.registry} refused the credentials: check username and password (or token) for ${this.registry}`
            : `could not get a token for ${this.registry}`,
      });
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(response.body).toString('utf8')) ?? {};
    } catch {
      throw new Error(
        `the token server ${redactUrl(url.toString())} for ${this.registry} answered 200 with something other than ` +
          "JSON: check the registry's auth setup (its token realm) or a proxy in between",
      );
    }
    // GHCR and Quay answer `access_token` alone, without `token`.
    const value = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof value !== 'string' || value === '') {
      throw new Error(
        `the token server ${redactUrl(url.toString())} for ${this.registry} answered without a token`,
      );
    }
    this.log.secret(value);
    const ttl =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0
        ? Math.min(parsed.expires_in, 24 * 3600)
        : DEFAULT_TOKEN_TTL_S;
    this.log.debug(
      `token for ${this.registry} (${scopeStrings.join(' ')}) in ${Math.round(this.clock.now() - started)} ms`,
    );
    const token: Token = { scopes, value, expiresAt: started + ttl * 1000 };
    this.tokens.push(token);
    return token;
  }
}

/** The `repository:<name>:<actions>` scopes of a challenge, with the actions this client asks for. */
function repositoryScopes(text: string): Scope[] {
  return text.split(' ').flatMap((item) => {
    const match = /^repository:([a-z0-9][a-z0-9._/-]{0,254}):([a-z,*]+)$/.exec(item);
    if (!match) return [];
    const actions = (match[2] ?? '')
      .split(',')
      .filter((a): a is 'pull' | 'push' => a === 'pull' || a === 'push');
    return actions.length ? [{ repository: match[1] ?? '', actions }] : [];
  });
}
