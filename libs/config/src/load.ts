import { TomlDate } from 'smol-toml';
import { ConfigError, type ConfigIssue, type ConfigSource } from './errors';
import { collectFileValues, readConfigFile } from './file-source';
import { x25519PublicFromPrivate } from './noise-key-pair';
import { ALWAYS_REQUIRED, type CommucatConfig, CONFIG_KEYS, type ConfigKey, type KeyDef } from './schema';

export interface LoadConfigOptions {
  /** Config file; defaults to $COMMUCAT_CONFIG, then ./commucat.toml (which may be absent). */
  readonly path?: string;
  /** Environment to read overrides from; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Keys this process cannot run without (server.domain is always required). */
  readonly require?: readonly ConfigKey[];
}

export const DEFAULT_CONFIG_PATH = './commucat.toml';

interface RawValue {
  readonly value: unknown;
  readonly source: ConfigSource;
  /** The variable to name in messages: the one that supplied the value, else the key's own. */
  readonly env: string;
}

const KEY_ENTRIES = Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef<unknown>][];
const KNOWN_KEYS: ReadonlySet<string> = new Set(KEY_ENTRIES.map(([key]) => key));

function setEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function pickRaw(key: ConfigKey, def: KeyDef<unknown>, env: NodeJS.ProcessEnv, file: ReadonlyMap<string, unknown>): RawValue | undefined {
  const fromEnv = setEnv(env, def.env);
  if (fromEnv !== undefined) return { value: fromEnv, source: 'env', env: def.env };
  if (def.fallbackEnv !== undefined) {
    const fromFallback = setEnv(env, def.fallbackEnv);
    if (fromFallback !== undefined) return { value: fromFallback, source: 'env', env: def.fallbackEnv };
  }
  if (file.has(key)) return { value: file.get(key), source: 'file', env: def.env };
  if (def.default === undefined) return undefined;
  const value = typeof def.default === 'function' ? (def.default as () => unknown)() : def.default;
  return { value, source: 'default', env: def.env };
}

// Credentials embedded in URLs (redis://:pw@host) are masked even for non-secret keys.
function maskUrlCredentials(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = JSON.stringify(maskUrlCredentials(value));
    return shown.length > 80 ? `${shown.slice(0, 77)}…"` : shown;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (value instanceof TomlDate) return 'a date';
  return 'a table';
}

const where = (key: ConfigKey, env?: string) => `${key} (${env ?? CONFIG_KEYS[key].env})`;

function camelCase(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Nests `server.tls_cert` as `server.tlsCert`; every section exists even when all its keys are unset. */
function buildTree(values: ReadonlyMap<ConfigKey, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key] of KEY_ENTRIES) {
    const parts = key.split('.').map(camelCase);
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    const value = values.get(key);
    if (value !== undefined) node[parts[parts.length - 1]!] = value;
  }
  return root;
}

/**
 * Loads commucat.toml plus COMMUCAT_* overrides, validates every key and returns the typed
 * config. Throws ConfigError listing every problem found.
 */
export function loadConfig(opts: LoadConfigOptions = {}): CommucatConfig {
  const env = opts.env ?? process.env;
  const explicitPath = opts.path ?? setEnv(env, 'COMMUCAT_CONFIG');
  const path = explicitPath ?? DEFAULT_CONFIG_PATH;
  const document = readConfigFile(path, explicitPath === undefined);
  const file = document === undefined ? { values: new Map<string, unknown>(), warnings: [] } : collectFileValues(document, KNOWN_KEYS, path);

  const values = new Map<ConfigKey, unknown>();
  const raws = new Map<ConfigKey, RawValue>();
  const issues: ConfigIssue[] = [];
  const keysWithIssues = new Set<ConfigKey>();
  const report = (key: ConfigKey, issue: Omit<ConfigIssue, 'key'>) => {
    if (keysWithIssues.has(key)) return;
    keysWithIssues.add(key);
    issues.push({ key, ...issue });
  };

  for (const [key, def] of KEY_ENTRIES) {
    const raw = pickRaw(key, def, env, file.values);
    if (raw === undefined) continue;
    raws.set(key, raw);
    const parsed = def.type.schema.safeParse(raw.value);
    if (parsed.success) {
      values.set(key, parsed.data);
      continue;
    }
    const got = def.secret ? '' : `, got ${describeValue(raw.value)}`;
    report(key, {
      code: 'CONFIG_INVALID_VALUE',
      env: raw.env,
      source: raw.source,
      message: `invalid config ${where(key, raw.env)}: expected ${def.type.expected}${got}`,
    });
  }

  checkPairs(values, raws, report);
  checkNoiseKeyPair(values, raws, report);
  if (raws.has('fleet.nats_token') && raws.has('fleet.nats_user')) {
    report('fleet.nats_token', {
      code: 'CONFIG_INCONSISTENT',
      env: CONFIG_KEYS['fleet.nats_token'].env,
      message: `invalid config ${where('fleet.nats_token')}: give a NATS token or ${where('fleet.nats_user')} with a password, not both`,
    });
  }
  if (values.get('ledger.mode') === 'file' && !values.has('ledger.target')) {
    report('ledger.target', { code: 'CONFIG_MISSING_REQUIRED', env: CONFIG_KEYS['ledger.target'].env, message: `missing required config ${where('ledger.target')}: ledger.mode = file needs it` });
  }

  for (const key of [...ALWAYS_REQUIRED, ...(opts.require ?? [])]) {
    if (values.has(key) || raws.has(key)) continue;
    report(key, { code: 'CONFIG_MISSING_REQUIRED', env: CONFIG_KEYS[key].env, message: `missing required config ${where(key)}` });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  // The reference enables admin-token rotation exactly when a token is configured.
  if (!values.has('security.rotation.admin_enabled')) {
    values.set('security.rotation.admin_enabled', values.has('admin.token'));
  }

  const tree = buildTree(values);
  return deepFreeze({
    ...tree,
    ...(document === undefined ? {} : { configPath: path }),
    warnings: file.warnings,
  }) as unknown as CommucatConfig;
}

type Report = (key: ConfigKey, issue: Omit<ConfigIssue, 'key'>) => void;

const PAIRS: readonly (readonly [ConfigKey, ConfigKey])[] = [
  ['server.tls_cert', 'server.tls_key'],
  ['crypto.noise_private', 'crypto.noise_public'],
  ['fleet.nats_user', 'fleet.nats_password'],
];

function checkPairs(values: ReadonlyMap<ConfigKey, unknown>, raws: ReadonlyMap<ConfigKey, RawValue>, report: Report): void {
  for (const [first, second] of PAIRS) {
    // Only judge pairs whose present half parsed; a bad value is reported on its own.
    const firstSet = raws.has(first);
    const secondSet = raws.has(second);
    if (firstSet === secondSet) continue;
    const [present, absent] = firstSet ? [first, second] : [second, first];
    if (!values.has(present)) continue;
    report(absent, {
      code: 'CONFIG_INCONSISTENT',
      env: CONFIG_KEYS[absent].env,
      message: `invalid config ${where(absent)}: must be set together with ${where(present)}`,
    });
  }
}

// The reference only checked this when the database had no key yet; check it always (§7).
function checkNoiseKeyPair(values: ReadonlyMap<ConfigKey, unknown>, raws: ReadonlyMap<ConfigKey, RawValue>, report: Report): void {
  const privateHex = values.get('crypto.noise_private') as string | undefined;
  const publicHex = values.get('crypto.noise_public') as string | undefined;
  if (privateHex === undefined || publicHex === undefined) return;
  if (x25519PublicFromPrivate(privateHex) === publicHex) return;
  const raw = raws.get('crypto.noise_public')!;
  report('crypto.noise_public', {
    code: 'CONFIG_INCONSISTENT',
    env: raw.env,
    source: raw.source,
    message: `invalid config ${where('crypto.noise_public')}: is not the X25519 public key of ${where('crypto.noise_private')}`,
  });
}

/** Conventional exit status for a configuration error (sysexits.h EX_CONFIG). */
export const EX_CONFIG = 78;

export interface LoadConfigOrExitOptions extends LoadConfigOptions {
  /** Where the message goes; process.stderr by default. */
  readonly stderr?: { write(text: string): unknown };
  /** How to stop; process.exit by default. */
  readonly exit?: (code: number) => never;
}

/**
 * loadConfig for a process entry point: on ConfigError prints the message to stderr and exits
 * with EX_CONFIG (78). Anything else is a bug and propagates.
 */
export function loadConfigOrExit(opts: LoadConfigOrExitOptions = {}): CommucatConfig {
  try {
    return loadConfig(opts);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    (opts.stderr ?? process.stderr).write(`${error.message}\n`);
    return (opts.exit ?? process.exit)(EX_CONFIG);
  }
}
