import { readFileSync } from 'node:fs';
import { parse, TomlDate, TomlError } from 'smol-toml';
import { ConfigError } from './errors';

export interface FileValues {
  /** Raw values by dotted key, only for keys the schema knows. */
  readonly values: ReadonlyMap<string, unknown>;
  readonly warnings: string[];
}

/** Reads the TOML file; undefined when it does not exist and `optional` is set. */
export function readConfigFile(path: string, optional: boolean): Record<string, unknown> | undefined {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (optional && code === 'ENOENT') return undefined;
    throw ConfigError.single('CONFIG_FILE_UNREADABLE', `cannot read config file ${path}: ${code ?? String(error)}`);
  }
  try {
    return parse(source) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      // Only the first line: smol-toml appends a code excerpt that may contain secret values.
      const reason = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw ConfigError.single(
        'CONFIG_FILE_SYNTAX',
        `cannot parse config file ${path}: line ${error.line}, column ${error.column}: ${reason}`,
      );
    }
    throw error;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof TomlDate);
}

/**
 * Flattens the parsed TOML along the known keys. Anything the schema does not know becomes a
 * warning rather than an error, so a newer file still starts an older service.
 */
export function collectFileValues(
  document: Record<string, unknown>,
  knownKeys: ReadonlySet<string>,
  path: string,
): FileValues {
  const knownSections = new Set<string>();
  for (const dotted of knownKeys) {
    const parts = dotted.split('.');
    for (let i = 1; i < parts.length; i++) knownSections.add(parts.slice(0, i).join('.'));
  }
  const values = new Map<string, unknown>();
  const warnings: string[] = [];
  const issues: ConfigError[] = [];

  const walk = (table: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(table)) {
      const dotted = prefix === '' ? name : `${prefix}.${name}`;
      if (knownKeys.has(dotted)) {
        values.set(dotted, value);
      } else if (knownSections.has(dotted)) {
        if (isTable(value)) walk(value, dotted);
        else issues.push(ConfigError.single('CONFIG_INVALID_VALUE', `invalid config ${dotted}: expected a table`, { key: dotted, source: 'file' }));
      } else {
        warnings.push(`unknown config key ${dotted} in ${path} (ignored)`);
      }
    }
  };
  walk(document, '');
  if (issues.length > 0) throw new ConfigError(issues.flatMap((error) => error.issues));
  return { values, warnings };
}
