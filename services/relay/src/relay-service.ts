import * as grpc from '@grpc/grpc-js';
import type { Envelope, RelayServiceServer } from '@commucat/contracts';
import { GrpcStatusError, translateErrors } from '@commucat/service-kit';
import { isUnavailable, StorageError } from '@commucat/storage';
import type { NewEnvelope, StoredEnvelope } from './envelope.js';
import { RelayError } from './errors.js';
import type { RelayQueue } from './relay-queue.js';

/** Trailer carrying the RelayError code, for callers that branch on it. */
export const RELAY_ERROR_CODE_METADATA = 'commucat-relay-error';

const fromProto = (e: Envelope): NewEnvelope => ({
  deviceId: e.deviceId,
  messageId: e.messageId,
  channelId: e.channelId,
  frame: e.frame,
  senderDeviceId: e.senderDeviceId,
});

const toProto = (e: StoredEnvelope): Envelope => ({
  deviceId: e.deviceId,
  messageId: e.messageId,
  channelId: e.channelId,
  frame: e.frame,
  senderDeviceId: e.senderDeviceId,
  enqueuedAt: e.enqueuedAt.getTime(),
  expiresAt: e.expiresAt.getTime(),
  seq: e.seq,
});

/**
 * Refusals become INVALID_ARGUMENT; an unreachable database becomes UNAVAILABLE and a
 * transaction that kept conflicting ABORTED, both of which a caller may retry. Anything else
 * is left to the service kit (INTERNAL, logged).
 */
function statusOf(err: unknown): unknown {
  if (err instanceof RelayError) {
    const metadata = new grpc.Metadata();
    metadata.set(RELAY_ERROR_CODE_METADATA, err.code);
    return new GrpcStatusError(grpc.status.INVALID_ARGUMENT, err.message, metadata);
  }
  if (isUnavailable(err)) return new GrpcStatusError(grpc.status.UNAVAILABLE, 'relay storage unavailable');
  if (err instanceof StorageError && err.code === 'serialization_failure') return new GrpcStatusError(grpc.status.ABORTED, 'relay storage conflict; retry');
  return err;
}

const answer = <T>(work: () => Promise<T>): Promise<T> => translateErrors(work, statusOf);

/** gRPC handlers of relay: proto messages in and out, the work done by RelayQueue. */
export function relayHandlers(queue: RelayQueue): RelayServiceServer {
  return {
    enqueue: async ({ request: req }) => answer(async () => ({
      envelopes: (await queue.enqueue(req.envelopes.map(fromProto), req.ttlSeconds)).map(toProto),
    })),
    drain: async ({ request: req }) => answer(async () => {
      const page = await queue.drain(req.deviceId, req.afterSeq, req.limit);
      return { envelopes: page.envelopes.map(toProto), more: page.more };
    }),
    acknowledge: async ({ request: req }) => answer(async () => ({
      removed: await queue.acknowledge(req.deviceId, req.upToSeq, req.seqs),
    })),
    depth: async ({ request: req }) => answer(async () => ({ envelopes: await queue.depth(req.deviceId) })),
  };
}
