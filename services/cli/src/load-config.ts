import { type CommucatConfig, ConfigError, loadConfig } from '@commucat/config';
import { CliError } from './errors';

/** loadConfig with the failure turned into a CliError (exit 78) that says where to fix it. */
export function loadCliConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): CommucatConfig {
  try {
    return loadConfig({ env, ...(path !== undefined ? { path } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new CliError('CONFIG', err.message, 'fix the value in commucat.toml (or --config <file>) or the COMMUCAT_* variable named above', { cause: err });
  }
}
