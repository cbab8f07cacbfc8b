/** Process exit codes; `--help` lists them, so keep both in step. */
export const ExitCode = {
  ok: 0,
  /** The command ran but failed: a check failed, the server refused, a file exists. */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** A fleet service or backing store could not be reached. */
  unreachable: 3,
  /** Bad configuration (sysexits EX_CONFIG, as every fleet service uses). */
  config: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type CliErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'UNREACHABLE'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'REFUSED'
  | 'UNIMPLEMENTED'
  | 'FILE_EXISTS'
  | 'FILE_WRITE'
  | 'INTERNAL';

const EXIT_FOR: Record<CliErrorCode, ExitCode> = {
  USAGE: ExitCode.usage,
  CONFIG: ExitCode.config,
  UNREACHABLE: ExitCode.unreachable,
  NOT_FOUND: ExitCode.failed,
  ALREADY_EXISTS: ExitCode.failed,
  REFUSED: ExitCode.failed,
  UNIMPLEMENTED: ExitCode.failed,
  FILE_EXISTS: ExitCode.failed,
  FILE_WRITE: ExitCode.failed,
  INTERNAL: ExitCode.failed,
};

/** A failure the operator can act on: `message` says what happened, `hint` what to do next. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  get exitCode(): ExitCode {
    return EXIT_FOR[this.code];
  }
}

export const usageError = (message: string): CliError => new CliError('USAGE', message, 'run `commucat-cli --help` for usage');
