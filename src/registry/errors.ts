/** One entry of the distribution spec's error body: `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryErrorCode {
  readonly code: string;
  readonly message: string;
  /** The `detail` as text (Quay puts its reason there), bounded and on one line; '' when absent. */
  readonly detail?: string;
}

/** The distribution spec's error codes this project acts on, plus the ones registries add for tags. */
export const ErrorCode = {
  BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  MANIFEST_BLOB_UNKNOWN: 'MANIFEST_BLOB_UNKNOWN',
  NAME_UNKNOWN: 'NAME_UNKNOWN',
  DENIED: 'DENIED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  TOOMANYREQUESTS: 'TOOMANYREQUESTS',
  /** ECR: "… cannot be overwritten because the tag is immutable". */
  TAG_INVALID: 'TAG_INVALID',
  /** Quay. */
  TAG_IMMUTABLE: 'TAG_IMMUTABLE',
  MANIFEST_INVALID: 'MANIFEST_INVALID',
} as const;

/** Longest error body read from a registry; the rest is discarded unread. */
export const MAX_ERROR_BODY = 64 * 1024;
/** Longest registry-supplied message kept in an error. */
const MAX_MESSAGE = 300;

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
  /** What the registry said, without our hint: `PUT <url>: 403 DENIED: …`. */
  readonly summary: string;
  /**
   * A 429 that waiting within the run cannot cure: Docker Hub's pull limit answers `ratelimit-remaining: 0;w=…`
   * and no Retry-After, and stays exhausted for hours. Failing at once beats retrying until wait-timeout.
   */
  readonly exhausted: boolean;

  constructor(init: {
    method: string;
    url: string;
    status: number;
    codes?: readonly RegistryErrorCode[];
    retryAfterMs?: number | undefined;
    hint?: string;
    exhausted?: boolean;
  }) {
    const codes = init.codes ?? [];
    const url = redactUrl(init.url);
    const detail = codes.length
      ? codes
          .map((c) => `${c.message ? `${c.code}: ${c.message}` : c.code}${c.detail ? ` (${c.detail})` : ''}`)
          .join('; ')
      : statusText(init.status);
    const summary = `${init.method} ${url}: ${init.status} ${detail}`;
    super(init.hint ? sentences(summary, init.hint) : summary);
    this.name = 'RegistryError';
    this.method = init.method;
    this.url = url;
    this.status = init.status;
    this.codes = codes;
    this.retryAfterMs = init.retryAfterMs;
    this.summary = summary;
    this.exhausted = init.exhausted ?? false;
  }

  hasCode(code: string): boolean {
    return this.codes.some((c) => c.code === code);
  }
}

/** Joins two texts as sentences: one period between them, the second capitalised. */
export function sentences(first: string, second: string): string {
  const head = first.replace(/[.\s]+$/, '');
  return `${head}. ${second.charAt(0).toUpperCase()}${second.slice(1)}`;
}

/**
 * Answers that mean "not visible yet" right after another runner pushed: a 404 for a manifest or blob, and an
 * index PUT refused because a child is not served yet. A PUT answered NAME_UNKNOWN is not lag: the repository
 * does not exist (it was just read from, so it would exist if it could).
 */
export function isLag(error: unknown): boolean {
  if (!(error instanceof RegistryError)) return false;
  if (error.hasCode(ErrorCode.MANIFEST_BLOB_UNKNOWN)) return true;
  if (isMissingChild(error)) return true;
  if (error.status !== 404) return false;
  return !(error.method === 'PUT' && error.hasCode(ErrorCode.NAME_UNKNOWN));
}

/**
 * Quay answers an index PUT whose child it cannot see yet with 400 MANIFEST_INVALID and the detail "Unable to
 * retrieve child manifest" (its endpoints/v2/manifest.py), zot with MANIFEST_INVALID naming the missing child:
 * the same lag as distribution's MANIFEST_BLOB_UNKNOWN. Only this code carries the fact in its text.
 */
function isMissingChild(error: RegistryError): boolean {
  if (error.method !== 'PUT' || error.status !== 400) return false;
  return error.codes.some(
    (c) =>
      c.code === ErrorCode.MANIFEST_INVALID &&
      /child manifest|manifest (?:blob )?unknown|not found/i.test(`${c.message} ${c.detail ?? ''}`),
  );
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // undici's (src/registry/transport.ts): no answer in time, a body that paused too long, a socket that broke.
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** The `code` of an error or of one of its causes, e.g. `ECONNREFUSED`. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** 408, 429, 5xx and socket-level failures are worth another try; 4xx answers are final. */
export function isTransient(error: unknown): boolean {
  if (error instanceof RegistryError) {
    if (error.exhausted) return false;
    return error.status === 408 || error.status === 429 || (error.status >= 500 && error.status !== 501);
  }
  const code = errorCode(error);
  return code !== undefined && NETWORK_CODES.has(code);
}

/** Parses the distribution error JSON; anything else gives no codes. Messages are cut and made one line. */
export function parseErrorBody(body: string): RegistryErrorCode[] {
  try {
    const parsed: unknown = JSON.parse(body);
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors.slice(0, 8).flatMap((e: unknown) => {
      if (typeof e !== 'object' || e === null) return [];
      const { code, message, detail } = e as { code?: unknown; message?: unknown; detail?: unknown };
      if (typeof code !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(code)) return [];
      const reason = (detail as { message?: unknown } | null)?.message ?? detail;
      return [
        {
          code: code.toUpperCase(),
          message: typeof message === 'string' ? oneLine(message) : '',
          ...(typeof reason === 'string' && reason ? { detail: oneLine(reason) } : {}),
        },
      ];
    });
  } catch {
    return [];
  }
}

/** A registry's message as one bounded line: control characters become spaces. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
  if (line.length <= MAX_MESSAGE) return line;
  // Cut between words: a cut through a word could keep the start of a secret the registry echoed, which no
  // masker would then recognise. The word the limit falls in is dropped whole.
  const space = line.lastIndexOf(' ', MAX_MESSAGE);
  return `${space > 0 ? line.slice(0, space) : ''} …`;
}

/** Drops userinfo and query values (upload `_state`, tokens, storage signatures) from a URL for messages and logs. */
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
    409: 'Conflict',
    412: 'Precondition Failed',
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
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
