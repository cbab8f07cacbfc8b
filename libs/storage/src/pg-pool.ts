import { Pool } from 'pg';
import { silentLogger, type StorageLogger } from './logger';

export interface PgPoolOptions {
  /** postgres:// connection string (COMMUCAT_PG_DSN). */
  dsn: string;
  /** Maximum open connections (default 10). */
  max?: number;
  /** Shown in pg_stat_activity; use the service name. */
  applicationName?: string;
  /** Server-side statement_timeout per connection, in ms (default: none). */
  statementTimeoutMs?: number;
  /** Schemas to put on search_path, first one wins for unqualified names. */
  searchPath?: string | string[];
  /** How long pool.connect() waits for a connection before failing (default 5000 ms). */
  connectionTimeoutMs?: number;
  /** Idle connections are closed after this long (default 30000 ms). */
  idleTimeoutMs?: number;
  logger?: StorageLogger;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

function searchPathOption(searchPath: string | string[]): string {
  const schemas = Array.isArray(searchPath) ? searchPath : [searchPath];
  if (schemas.length === 0) throw new Error('searchPath must name at least one schema');
  for (const schema of schemas) {
    // The value travels inside the libpq "options" string, where quoting is awkward; plain
    // identifiers are all the fleet needs, so anything else is refused up front.
    if (!IDENTIFIER.test(schema)) throw new Error(`invalid schema name in searchPath: ${JSON.stringify(schema)}`);
  }
  return `-c search_path=${schemas.join(',')}`;
}

/**
 * A pg.Pool with the fleet's defaults. Connection-level errors (server restart, a backend
 * terminated by an operator) are logged and the broken client is discarded; they never reach
 * the process as an unhandled 'error' event.
 */
export function createPgPool(options: PgPoolOptions): Pool {
  const logger = options.logger ?? silentLogger;
  const pool = new Pool({
    connectionString: options.dsn,
    max: options.max ?? 10,
    application_name: options.applicationName,
    statement_timeout: options.statementTimeoutMs,
    options: options.searchPath === undefined ? undefined : searchPathOption(options.searchPath),
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    keepAlive: true,
  });

  // Idle clients: pg-pool removes the dead client and re-emits the error here.
  pool.on('error', (err) => {
    logger.warn({ err, pool: options.applicationName }, 'postgres idle connection failed; discarded');
  });
  // Checked-out clients have no pool listener while in use; without one of our own, a backend
  // dying mid-request would surface as an unhandled 'error' event and kill the process. The
  // failing query still rejects, so the caller sees the error.
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      logger.warn({ err, pool: options.applicationName }, 'postgres connection failed');
    });
  });
  return pool;
}
