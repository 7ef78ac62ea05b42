/** The names every parser, action.yml and the CLI share, the error that names one, and the list grammar. */

/** The input names, shared by action.yml and the CLI flags. */
export const INPUT = {
  image: 'image',
  tags: 'tags',
  sources: 'sources',
  sourcesDir: 'sources-dir',
  platforms: 'platforms',
  attestations: 'attestations',
  referrers: 'referrers',
  promote: 'promote',
  annotations: 'annotations',
  mediaType: 'media-type',
  ifTagExists: 'if-tag-exists',
  orderBy: 'order-by',
  waitTimeout: 'wait-timeout',
  username: 'username',
  password: 'password',
  githubToken: 'github-token',
  dryRun: 'dry-run',
  plainHttp: 'plain-http',
} as const;

export type InputName = (typeof INPUT)[keyof typeof INPUT];

/** A wrong input: the message starts with `input "<name>": ` and ends with an example or the fix. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly input: string;

  constructor(input: string, detail: string) {
    super(`input "${input}": ${detail}`);
    this.input = input;
  }
}

/** Splits on newlines and commas, trims, drops blanks. */
export function listOf(text: string): string[] {
  return text
    .split(/[\r\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
