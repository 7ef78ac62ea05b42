/** What the core logs through; the action backs it with @actions/core, the CLI with the console. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  /** A non-fatal problem; `title` becomes the annotation title in the action. */
  warning(message: string, title?: string): void;
  /** Runs `fn` inside a collapsible group (one per phase). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Registers a secret so it is masked wherever it would be printed; call it the moment a secret is read. */
  secret(value: string): void;
}

/** Replaces every registered secret (and its base64 forms, as they appear in Basic headers) in a text. */
export class SecretMasker {
  private readonly secrets = new Set<string>();

  add(value: string): void {
    if (value.length < 3) return;
    this.secrets.add(value);
    this.secrets.add(Buffer.from(value).toString('base64'));
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join('***');
    return masked;
  }
}

/** The CLI's logger: facts on stderr so stdout stays machine-readable; debug only when asked. */
export function consoleLogger(options: { debug: boolean; write?: (line: string) => void }): Logger {
  const masker = new SecretMasker();
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (line: string) => write(masker.mask(line));
  return {
    debug: (message) => {
      if (options.debug) emit(`debug: ${message}`);
    },
    info: (message) => emit(message),
    warning: (message, title) => emit(`warning: ${title ? `${title}: ` : ''}${message}`),
    group: async (name, fn) => {
      emit(`== ${name}`);
      return fn();
    },
    secret: (value) => masker.add(value),
  };
}
