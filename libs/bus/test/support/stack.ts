import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { BusCodec, BusLogger } from '../../src';

const HOW_TO_START = 'start the stack: scripts/stack.sh start; eval $(scripts/stack.sh env)';

/** NATS URL from the stack, or a failing test file with instructions (never a skip). */
export function natsUrl(): string {
  const value = process.env.COMMUCAT_NATS_URL;
  if (!value) throw new Error(`COMMUCAT_NATS_URL is not set — ${HOW_TO_START}`);
  return value;
}

/** A token safe inside subjects and stream names, unique per call. */
export function uniqueToken(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A real codec: JSON text as UTF-8 bytes. decode throws on anything that is not JSON. */
export function jsonCodec<T>(): BusCodec<T> {
  return {
    encode: (message) => new TextEncoder().encode(JSON.stringify(message)),
    decode: (bytes) => JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as T,
  };
}

export class RecordingLogger implements BusLogger {
  readonly entries: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
  debug(obj: object, msg?: string) {
    this.entries.push({ level: 'debug', obj: obj as Record<string, unknown>, msg });
  }
  info(obj: object, msg?: string) {
    this.entries.push({ level: 'info', obj: obj as Record<string, unknown>, msg });
  }
  warn(obj: object, msg?: string) {
    this.entries.push({ level: 'warn', obj: obj as Record<string, unknown>, msg });
  }
  error(obj: object, msg?: string) {
    this.entries.push({ level: 'error', obj: obj as Record<string, unknown>, msg });
  }
  messages(level: string): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.msg ?? '');
  }
}

export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Resolves after `count` calls of the returned function. */
export function countdown(count: number): { hit: () => void; done: Promise<void> } {
  let left = count;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (count === 0) resolve();
  return {
    hit: () => {
      left -= 1;
      if (left === 0) resolve();
    },
    done,
  };
}

/** A raw connection for test bookkeeping (deleting streams), independent of the bus under test. */
export class NatsAdmin {
  private constructor(private readonly nc: NatsConnection) {}
  private readonly streams = new Set<string>();

  static async connect(): Promise<NatsAdmin> {
    return new NatsAdmin(await connect({ servers: natsUrl(), name: 'bus-test-admin' }));
  }

  /** Remember a stream so cleanup() deletes it. */
  track(stream: string): string {
    this.streams.add(stream);
    return stream;
  }

  async streamConfig(stream: string) {
    const jsm = await jetstreamManager(this.nc);
    return (await jsm.streams.info(stream)).config;
  }

  async streamState(stream: string) {
    const jsm = await jetstreamManager(this.nc);
    return (await jsm.streams.info(stream)).state;
  }

  async consumerPending(stream: string, durable: string) {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(stream, durable);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }

  async cleanup(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    for (const stream of this.streams) await jsm.streams.delete(stream).catch(() => false);
    await this.nc.close();
  }
}
