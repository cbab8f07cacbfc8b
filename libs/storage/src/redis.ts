import { Redis } from 'ioredis';
import { silentLogger, type StorageLogger } from './logger';

export interface RedisOptions {
  /** Sent as CLIENT SETNAME and used in log lines; use the service name. */
  name?: string;
  logger?: StorageLogger;
  /** A command that gets no answer within this time rejects (default 5000 ms; 0 = never). */
  commandTimeoutMs?: number;
}

/** Reconnect delay: quick at first, then every 2 s at most, forever (the process stays up and /readyz reports the outage). */
function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * attempt, 2000);
}

/**
 * An ioredis client tuned to fail fast: while Redis is unreachable a command is retried across
 * at most one reconnect attempt and then rejects, instead of queueing for minutes. Connection
 * errors are logged (ioredis emits one per failed reconnect) and never thrown as an unhandled
 * 'error' event.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const logger = options.logger ?? silentLogger;
  const commandTimeout = options.commandTimeoutMs ?? 5000;
  const redis = new Redis(url, {
    connectionName: options.name,
    retryStrategy: reconnectDelayMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: commandTimeout > 0 ? commandTimeout : undefined,
    enableOfflineQueue: true,
    // disconnect() arms a timer to destroy a socket that does not close in time; when the
    // socket already died (server down) that timer only delays process exit, so keep it short.
    disconnectTimeout: 500,
  });
  let lastErrorCode: string | undefined;
  redis.on('error', (err: Error & { code?: string }) => {
    // A down server produces the same error on every reconnect attempt; log it once per outage.
    if (err.code !== undefined && err.code === lastErrorCode) return;
    lastErrorCode = err.code;
    logger.warn({ err, redis: options.name }, 'redis connection error');
  });
  redis.on('ready', () => {
    if (lastErrorCode !== undefined) logger.info({ redis: options.name }, 'redis connection restored');
    lastErrorCode = undefined;
  });
  return redis;
}
