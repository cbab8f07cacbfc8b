/** Stable codes for every failure the storage layer reports. */
export type StorageErrorCode =
  | 'unique_violation'
  | 'not_found'
  | 'unavailable'
  | 'timeout'
  | 'serialization_failure'
  | 'migration_invalid'
  | 'migration_checksum_mismatch'
  | 'migration_failed';

export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** PostgreSQL SQLSTATE codes this package reacts to. */
export const PgErrorCodes = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  adminShutdown: '57P01',
  crashShutdown: '57P02',
  cannotConnectNow: '57P03',
  tooManyConnections: '53300',
} as const;

const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** SQLSTATE (or errno) of a pg / node error, if any. */
export function pgErrorCode(err: unknown): string | undefined {
  return codeOf(err);
}

export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof StorageError) return err.code === 'unique_violation';
  return codeOf(err) === PgErrorCodes.uniqueViolation;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof StorageError && err.code === 'not_found';
}

/** Errors a retry of the whole transaction can cure. */
export function isRetryableTransactionError(err: unknown): boolean {
  const code = codeOf(err);
  return code === PgErrorCodes.serializationFailure || code === PgErrorCodes.deadlockDetected;
}

/**
 * True when the database (or the network to it) is the problem rather than the statement:
 * connection refused/reset, server shutting down, class 08 connection exceptions, and pg's own
 * "Connection terminated" errors, which carry no code.
 */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StorageError) return err.code === 'unavailable' || err.code === 'timeout';
  const code = codeOf(err);
  if (code !== undefined) {
    if (NETWORK_ERRNOS.has(code) || code.startsWith('08')) return true;
    if (
      code === PgErrorCodes.adminShutdown ||
      code === PgErrorCodes.crashShutdown ||
      code === PgErrorCodes.cannotConnectNow ||
      code === PgErrorCodes.tooManyConnections
    ) {
      return true;
    }
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

/**
 * Wraps a driver error in a StorageError when it has a stable meaning (unique violation,
 * unavailability); anything else is returned unchanged so callers keep the original.
 */
export function toStorageError(err: unknown): unknown {
  if (err instanceof StorageError) return err;
  if (isUniqueViolation(err)) {
    const constraint = (err as { constraint?: string }).constraint;
    return new StorageError('unique_violation', `unique constraint violated${constraint ? `: ${constraint}` : ''}`, { cause: err });
  }
  if (isUnavailable(err)) {
    return new StorageError('unavailable', `database unavailable: ${(err as Error).message}`, { cause: err });
  }
  return err;
}
