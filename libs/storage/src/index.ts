export {
  StorageError,
  PgErrorCodes,
  isNotFound,
  isRetryableTransactionError,
  isUnavailable,
  isUniqueViolation,
  pgErrorCode,
  toStorageError,
} from './errors';
export type { StorageErrorCode } from './errors';
export type { StorageLogger } from './logger';
export { createPgPool } from './pg-pool';
export type { PgPoolOptions } from './pg-pool';
export { withTransaction } from './transaction';
export type { IsolationLevel, TransactionOptions } from './transaction';
export { loadMigrationFiles } from './migration-files';
export type { MigrationFile } from './migration-files';
export { migrationStatus, runMigrations } from './migrations';
export type { MigrationStatusEntry, RunMigrationsOptions } from './migrations';
export { createRedis } from './redis';
export type { RedisOptions } from './redis';
export { pingPostgres, pingRedis } from './readiness';
export type { Pool as PgPool, PoolClient as PgPoolClient } from 'pg';
export type { Redis } from 'ioredis';
export { IMAGE_TYPES, sniffImageType } from './image-type';
export type { ImageContentType, ImageType } from './image-type';
