/** One entry of the distribution spec's error body: `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryErrorCode {
  readonly code: string;
  readonly message: string;
}

/** Longest error body read from a registry; the rest is discarded unread. */
export const MAX_ERROR_BODY = 64 * 1024;

/**
 * A registry answered with an unexpected status. Classified by status and OCI error code, never by text.
 * The URL is redacted (no userinfo, no query values) so the error can be logged as is.
 */
export class RegistryError extends Error {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly codes: readonly RegistryErrorCode[];
  /** Milliseconds the registry asked us to wait (`Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    method: string;
    url: string;
    status: number;
    codes?: readonly RegistryErrorCode[];
    retryAfterMs?: number | undefined;
    hint?: string;
  }) {
    const codes = init.codes ?? [];
    const url = redactUrl(init.url);
    const detail = codes.length
      ? codes.map((c) => (c.message ? `${c.code}: ${c.message}` : c.code)).join('; ')
      : statusText(init.status);
    super(`${init.method} ${url}: ${init.status} ${detail}${init.hint ? `. ${init.hint}` : ''}`);
    this.name = 'RegistryError';
    this.method = init.method;
    this.url = url;
    this.status = init.status;
    this.codes = codes;
    this.retryAfterMs = init.retryAfterMs;
  }

  hasCode(code: string): boolean {
    return this.codes.some((c) => c.code === code);
  }
}

/** Parses the distribution error JSON; anything else gives no codes. */
export function parseErrorBody(body: string): RegistryErrorCode[] {
  try {
    const parsed: unknown = JSON.parse(body);
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors.flatMap((e: unknown) => {
      if (typeof e !== 'object' || e === null) return [];
      const { code, message } = e as { code?: unknown; message?: unknown };
      if (typeof code !== 'string') return [];
      return [
        { code: code.toUpperCase(), message: typeof message === 'string' ? message.slice(0, 500) : '' },
      ];
    });
  } catch {
    return [];
  }
}

/** Drops userinfo and query values (upload `_state`, tokens) from a URL for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) {
      if (key !== 'scope' && key !== 'service' && key !== 'digest' && key !== 'mount' && key !== 'from') {
        u.searchParams.set(key, 'REDACTED');
      }
    }
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    408: 'Request Timeout',
    413: 'Payload Too Large',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return texts[status] ?? 'unexpected status';
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
