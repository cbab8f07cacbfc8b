import type { CliError } from './errors';

export interface Writable {
  write(text: string): unknown;
}

/**
 * Where a command's results go. Text mode prints for people and shows progress on stderr;
 * JSON mode prints exactly one JSON document on stdout and nothing on stderr but errors.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: Writable = process.stdout,
    private readonly stderr: Writable = process.stderr,
  ) {}

  /** A step that may take a while ("connecting to …"); silent with --json. */
  progress(message: string): void {
    if (!this.json) this.stderr.write(`${message}\n`);
  }

  /** The command's result: `document` with --json, `text` otherwise. */
  result(document: unknown, text: string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    else this.stdout.write(text);
  }

  /** The failure: a JSON error document on stdout with --json; always a line on stderr. */
  error(error: CliError): void {
    const hint = error.hint !== undefined ? `\nhint: ${error.hint}` : '';
    this.stderr.write(`error: ${error.message}${hint}\n`);
    if (this.json) {
      this.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, ...(error.hint !== undefined ? { hint: error.hint } : {}) } }, null, 2)}\n`);
    }
  }
}
