export { RelayQueue } from './relay-queue.js';
export type { RelayQueueOptions } from './relay-queue.js';
export type { DrainPage, NewEnvelope, StoredEnvelope } from './envelope.js';
export { relayHandlers, RELAY_ERROR_CODE_METADATA } from './relay-service.js';
export { relayMetrics } from './relay-metrics.js';
export type { RelayMetrics } from './relay-metrics.js';
export { RelayError } from './errors.js';
export type { RelayErrorCode } from './errors.js';
export {
  DEFAULT_DRAIN_LIMIT, DEFAULT_DRAIN_PAGE_BYTES, DEFAULT_PURGE_BATCH, DEFAULT_PURGE_INTERVAL_MS,
  MAX_ACK_SEQS, MAX_DRAIN_LIMIT, MAX_ENVELOPES_PER_ENQUEUE, MAX_FRAME_BYTES,
} from './limits.js';
