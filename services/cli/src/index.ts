export { defaultMigrationsDir, migrate } from './migrate.js';
export { parseCommandLine, type Command, type CommonOptions, type ParsedCommandLine } from './args.js';
export { CliError, type CliErrorCode, ExitCode } from './errors.js';
export { runCli, type RunContext } from './run.js';
export { renderKeyValues, renderTable } from './table.js';
export { renderDiagnoseTable } from './commands/diagnose.js';
export type { CheckResult } from './diagnose/check.js';
export { KEY_FILE_FORMAT } from './commands/rotate-keys.js';
