import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { createPgPool, runMigrations } from '@commucat/storage';
import { stackEnv } from './stack-env';

const MIGRATIONS = path.resolve(__dirname, '../../migrations');

export interface MigratedSchema {
  schema: string;
  pool: Pool;
  /** A DSN whose connections use this schema (for child processes). */
  dsn: string;
  drop(): Promise<void>;
}

/** A fresh Postgres schema with every migration applied: isolation for one test file. */
export async function migratedSchema(prefix = 't'): Promise<MigratedSchema> {
  const { pgDsn } = stackEnv();
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = createPgPool({ dsn: pgDsn, max: 1 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = createPgPool({ dsn: pgDsn, max: 8, searchPath: schema });
  await runMigrations(pool, MIGRATIONS);
  return {
    schema,
    pool,
    dsn: `${pgDsn}${pgDsn.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async drop() {
      await pool.end();
      const cleanup = createPgPool({ dsn: pgDsn, max: 1 });
      try {
        await cleanup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

/** Creates an empty database `name` on the stack's PostgreSQL server; returns its DSN. */
export async function createDatabase(name: string): Promise<string> {
  const { pgDsn } = stackEnv();
  const admin = createPgPool({ dsn: pgDsn, max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgDsn);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` (and its connections) from the stack's PostgreSQL server. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = createPgPool({ dsn: stackEnv().pgDsn, max: 1 });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * A fresh Postgres database (not just a schema) with every migration applied: for tests that
 * stand up two independent fleets, as two servers of two domains would have.
 */
export async function migratedDatabase(prefix = 'db'): Promise<MigratedSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const dsn = await createDatabase(name);
  const pool = createPgPool({ dsn, max: 8 });
  await runMigrations(pool, MIGRATIONS);
  return {
    schema: name,
    pool,
    dsn,
    async drop() {
      await pool.end();
      await dropDatabase(name);
    },
  };
}
