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

/** `1 platform`, `2 platforms`: a count with its noun, for messages. */
export function counted(count: number, noun: string): string {
  return `${count} ${count === 1 ? noun : `${noun}s`}`;
}

/**
 * Makes a line safe to print: control characters (newlines included) are shown escaped, so a value from a
 * registry or an input can neither start a line of its own nor move the cursor; a line that would start with
 * `::` (a workflow command) is defused, and so is every `##[`, which the runner reads as a legacy command
 * (`##[add-mask]…`, `##[set-output …]`) anywhere in a line, on stdout and stderr alike. Applied by every logger,
 * to every message.
 */
export function printable(text: string): string {
  const escaped = breakLegacyCommands(
    text.replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
      /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g,
      (c) =>
        c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    ),
  );
  return /^\s*::/.test(escaped) ? `\\${escaped.trimStart()}` : escaped;
}

/** `##[` with its bracket escaped (`##\[`): still readable, no longer a command. */
export function breakLegacyCommands(text: string): string {
  return text.replaceAll('##[', '##\\[');
}

/**
 * JSON text for stdout, which the runner reads for commands when the CLI runs in a workflow: `[` after `##` is
 * written `\u005b`, which parses to the same value. Lines of indented JSON start with a space, `"`, or a bracket,
 * never with `::`.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replaceAll('##[', '##\\u005b');
}

/**
 * What to mask for a secret: the value, and each of its lines, because the runner matches masks line by line,
 * so a registry that echoes a multi-line secret back would show every line of it. Lines are trimmed, and those
 * shorter than MIN_SECRET_LENGTH are left out: a JSON key file's `{` would mask every brace of the log.
 */
export function secretParts(value: string): string[] {
  const lines = value
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length >= MIN_SECRET_LENGTH);
  return [...new Set(value === '' ? lines : [value, ...lines])];
}

/** Shorter values are not masked: they would hide ordinary text everywhere. */
const MIN_SECRET_LENGTH = 3;

/** Replaces every registered secret (and its base64 forms, as they appear in Basic headers) in a text. */
export class SecretMasker {
  private readonly secrets = new Set<string>();

  add(value: string): void {
    for (const part of secretParts(value)) {
      if (part.length < MIN_SECRET_LENGTH) continue;
      this.secrets.add(part);
      this.secrets.add(Buffer.from(part).toString('base64'));
    }
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join('***');
    return masked;
  }
}

/** The CLI's logger: facts on stderr so stdout stays machine-readable; debug only when asked. */
export function consoleLogger(options: {
  debug: boolean;
  write?: (line: string) => void;
}): Logger & { error(message: string): void } {
  const masker = new SecretMasker();
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (line: string) => write(printable(masker.mask(line)));
  return {
    /** The CLI's last line: masked and escaped like every other. */
    error: (message) => emit(`manifest-merge: ${message}`),
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
