import { connectBus, natsAuthOf } from '@commucat/bus';
import type { CommucatConfig } from '@commucat/config';
import { createPgPool, createRedis, pingPostgres, pingRedis } from '@commucat/storage';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Check, redactUrl } from './check';

/** Adds where to look to a store failure; ioredis' retry-limit text says nothing useful. */
function withHint(run: Check['run'], key: string, env: string): Check['run'] {
  return async (timeoutMs) => {
    try {
      return await run(timeoutMs);
    } catch (err) {
      const message = (err as Error).message.replace(/Reached the max retries per request limit.*$/, 'no connection');
      throw new Error(`${message}; is the stack up (\`make up\`)? check ${key} (${env})`);
    }
  };
}

const notConfigured = (key: string, env: string): Check['run'] => () => Promise.reject(new Error(`not configured: set ${key} (${env})`));

/** Where the DSN points, without credentials; key=value DSNs are not echoed at all. */
function dsnTarget(dsn: string): string {
  try {
    const url = new URL(dsn);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(configured dsn)';
  }
}

export function postgresCheck(config: CommucatConfig): Check {
  const dsn = config.storage.postgresDsn;
  if (dsn === undefined) return { component: 'postgres', target: '-', run: notConfigured('storage.postgres_dsn', 'COMMUCAT_PG_DSN') };
  return {
    component: 'postgres',
    target: dsnTarget(dsn),
    run: withHint(async (timeoutMs) => {
      const pool = createPgPool({ dsn, max: 1, applicationName: 'commucat-cli', connectionTimeoutMs: timeoutMs });
      try {
        await pingPostgres(pool, timeoutMs);
        return 'SELECT 1 ok';
      } finally {
        await pool.end().catch(() => undefined);
      }
    }, 'storage.postgres_dsn', 'COMMUCAT_PG_DSN'),
  };
}

export function redisCheck(config: CommucatConfig): Check {
  const url = config.storage.redisUrl;
  if (url === undefined) return { component: 'redis', target: '-', run: notConfigured('storage.redis_url', 'COMMUCAT_REDIS_URL') };
  return {
    component: 'redis',
    target: redactUrl(url),
    run: withHint(async (timeoutMs) => {
      const redis = createRedis(url, { name: 'commucat-cli', commandTimeoutMs: timeoutMs });
      try {
        await pingRedis(redis, timeoutMs);
        return 'PING → PONG';
      } finally {
        redis.disconnect();
      }
    }, 'storage.redis_url', 'COMMUCAT_REDIS_URL'),
  };
}

export function natsCheck(config: CommucatConfig): Check {
  return {
    component: 'nats',
    target: redactUrl(config.fleet.natsUrl),
    run: withHint(async (timeoutMs) => {
      const connecting = connectBus({ servers: config.fleet.natsUrl, auth: natsAuthOf(config.fleet), name: 'commucat-cli', ...(config.fleet.natsNamespace !== undefined ? { namespace: config.fleet.natsNamespace } : {}) });
      // connectBus has no connect timeout of its own; a bus that arrives too late is closed.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void connecting.then((b) => b.close(), () => undefined);
          reject(new Error(`cannot connect to NATS within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const bus = await Promise.race([connecting, late]).finally(() => clearTimeout(timer));
      try {
        await bus.ready(timeoutMs);
        return 'connected, flush ok';
      } finally {
        await bus.close();
      }
    }, 'fleet.nats_url', 'COMMUCAT_NATS_URL'),
  };
}

/** JetStream must be enabled: the router's work queue is a stream. Read-only (account info). */
export function jetStreamCheck(config: CommucatConfig): Check {
  const servers = config.fleet.natsUrl.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    component: 'jetstream',
    target: redactUrl(config.fleet.natsUrl),
    async run(timeoutMs) {
      // One attempt: a diagnose must not sit in the client's reconnect loop.
      const nc = await connect({ servers, name: 'commucat-cli-jetstream', timeout: timeoutMs, maxReconnectAttempts: 0, ...natsAuthOf(config.fleet) }).catch((err: unknown) => {
        throw new Error(`cannot connect to NATS: ${(err as Error).message}; check fleet.nats_url (COMMUCAT_NATS_URL)`);
      });
      try {
        const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
        const info = await jsm.getAccountInfo();
        return `enabled, ${info.streams} stream(s)`;
      } catch (err) {
        throw new Error(`JetStream unavailable (start nats-server with -js): ${(err as Error).message}`);
      } finally {
        await nc.close();
      }
    },
  };
}
