/** Stable codes for everything that can go wrong while loading configuration. */
export type ConfigErrorCode =
  | 'CONFIG_INVALID_VALUE'
  | 'CONFIG_MISSING_REQUIRED'
  | 'CONFIG_INCONSISTENT'
  | 'CONFIG_FILE_UNREADABLE'
  | 'CONFIG_FILE_SYNTAX';

/** Where a value came from; lets callers tell operators which place to fix. */
export type ConfigSource = 'env' | 'file' | 'default';

export interface ConfigIssue {
  readonly code: ConfigErrorCode;
  /** Dotted key, e.g. `server.keepalive`; absent for file-level problems. */
  readonly key?: string;
  /** Environment variable that overrides the key. */
  readonly env?: string;
  readonly source?: ConfigSource;
  readonly message: string;
}

/**
 * Thrown by loadConfig. The message lists every issue, one per line, each naming the dotted key
 * and its environment variable. Secret values are never part of it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    if (issues.length === 0) throw new TypeError('ConfigError needs at least one issue');
    super(issues.map((issue) => issue.message).join('\n'));
    this.code = issues[0]!.code;
    this.issues = issues;
  }

  static single(code: ConfigErrorCode, message: string, where: Omit<ConfigIssue, 'code' | 'message'> = {}): ConfigError {
    return new ConfigError([{ code, message, ...where }]);
  }
}
