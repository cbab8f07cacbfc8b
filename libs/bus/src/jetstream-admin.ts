import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { BusError } from './errors';
import type { StreamOptions } from './bus-types';

const DEFAULT_DUPLICATE_WINDOW_SECONDS = 120;

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

function desiredStreamConfig(options: StreamOptions) {
  const maxAge = options.maxAgeSeconds ?? 0;
  let duplicateWindow = options.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS;
  // The server refuses a duplicate window longer than the retention.
  if (maxAge > 0 && duplicateWindow > maxAge) duplicateWindow = maxAge;
  return {
    name: options.name,
    subjects: [...options.subjects],
    storage: options.storage === 'file' ? StorageType.File : StorageType.Memory,
    retention: options.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    max_age: nanos(maxAge * 1000),
    max_msgs_per_subject: options.maxMsgsPerSubject ?? -1,
    duplicate_window: nanos(duplicateWindow * 1000),
  };
}

function sameSubjects(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * Create the stream, or bring an existing one to the requested limits. Storage type cannot be
 * changed on a live stream, so a mismatch is reported instead of silently ignored.
 */
export async function ensureStreamWith(jsm: JetStreamManager, options: StreamOptions): Promise<void> {
  const desired = desiredStreamConfig(options);
  for (let attempt = 0; ; attempt++) {
    let current: StreamConfig;
    try {
      current = (await jsm.streams.info(options.name)).config;
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) {
        throw new BusError('jetstream_failed', `stream ${options.name}: ${(err as Error).message}`, { cause: err });
      }
      try {
        await jsm.streams.add(desired);
        return;
      } catch (addErr) {
        // Another process created it between our info and add: look again and update.
        if (attempt === 0) continue;
        throw new BusError('jetstream_failed', `stream ${options.name}: ${(addErr as Error).message}`, { cause: addErr });
      }
    }
    if (current.storage !== desired.storage) {
      throw new BusError('stream_config_conflict', `stream ${options.name} exists with ${current.storage} storage, ${desired.storage} requested; storage cannot be changed in place`);
    }
    if (current.retention !== desired.retention) {
      throw new BusError('stream_config_conflict', `stream ${options.name} exists with ${current.retention} retention, ${desired.retention} requested; retention cannot be changed in place`);
    }
    const upToDate =
      sameSubjects(current.subjects ?? [], desired.subjects) &&
      current.max_age === desired.max_age &&
      current.max_msgs_per_subject === desired.max_msgs_per_subject &&
      current.duplicate_window === desired.duplicate_window;
    if (upToDate) return;
    try {
      await jsm.streams.update(options.name, { ...current, ...desired });
      return;
    } catch (err) {
      throw new BusError('jetstream_failed', `stream ${options.name}: update failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

export interface DurableConsumerConfig {
  stream: string;
  durable: string;
  filterSubject: string;
  ackWaitMs: number;
  maxDeliver: number;
  /** Delete any existing consumer first (see ConsumeDurableOptions.exclusive). */
  recreate: boolean;
}

/** Create the durable pull consumer, or update the settings that may change on a live one. */
export async function ensureDurableConsumer(jsm: JetStreamManager, config: DurableConsumerConfig): Promise<void> {
  const updatable = {
    filter_subject: config.filterSubject,
    ack_wait: nanos(config.ackWaitMs),
    max_deliver: config.maxDeliver,
  };
  if (config.recreate) await deleteConsumer(jsm, config);
  try {
    const info = await jsm.consumers.info(config.stream, config.durable);
    const c = info.config;
    if (c.filter_subject !== updatable.filter_subject || c.ack_wait !== updatable.ack_wait || c.max_deliver !== updatable.max_deliver) {
      await jsm.consumers.update(config.stream, config.durable, updatable);
    }
    return;
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) {
      throw new BusError('jetstream_failed', `consumer ${config.stream}/${config.durable}: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    await jsm.consumers.add(config.stream, {
      durable_name: config.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...updatable,
    });
  } catch (err) {
    // Concurrent creation by another replica with the same settings is fine.
    try {
      await jsm.consumers.info(config.stream, config.durable);
    } catch {
      throw new BusError('jetstream_failed', `consumer ${config.stream}/${config.durable}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Removes the consumer if it exists; its unacknowledged messages stay in the stream. */
async function deleteConsumer(jsm: JetStreamManager, config: DurableConsumerConfig): Promise<void> {
  try {
    await jsm.consumers.delete(config.stream, config.durable);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) {
      throw new BusError('jetstream_failed', `consumer ${config.stream}/${config.durable}: delete failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
