import * as grpc from '@grpc/grpc-js';
import type { FederationServiceServer } from '@commucat/contracts';
import { GrpcStatusError, translateErrors } from '@commucat/service-kit';
import { isUnavailable } from '@commucat/storage';
import { FederationError, type FederationErrorCode } from './errors.js';
import type { InboundProcessor } from './inbound.js';
import type { OutboxStore } from './outbox.js';
import type { PeerDirectory } from './peers.js';

/** Trailer carrying the FederationError code, for the gateway to map onto an HTTP status. */
export const FEDERATION_ERROR_CODE_METADATA = 'commucat-federation-error';

const STATUS_BY_CODE: Record<FederationErrorCode, grpc.status> = {
  malformed: grpc.status.INVALID_ARGUMENT,
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  unknown_peer: grpc.status.PERMISSION_DENIED,
  bad_signature: grpc.status.PERMISSION_DENIED,
  stale: grpc.status.FAILED_PRECONDITION,
  wrong_scope: grpc.status.PERMISSION_DENIED,
  replay: grpc.status.ALREADY_EXISTS,
  invalid_payload: grpc.status.INVALID_ARGUMENT,
  invalid_target: grpc.status.INVALID_ARGUMENT,
  unknown_target: grpc.status.NOT_FOUND,
  not_permitted: grpc.status.PERMISSION_DENIED,
  delivery_failed: grpc.status.UNAVAILABLE,
};

function statusOf(err: unknown): unknown {
  if (err instanceof FederationError) {
    const metadata = new grpc.Metadata();
    metadata.set(FEDERATION_ERROR_CODE_METADATA, err.code);
    return new GrpcStatusError(STATUS_BY_CODE[err.code], err.message, metadata);
  }
  if (isUnavailable(err)) return new GrpcStatusError(grpc.status.UNAVAILABLE, 'federation storage unavailable');
  return err;
}

const answer = <T>(work: () => Promise<T>): Promise<T> => translateErrors(work, statusOf);

/** gRPC handlers of federation: proto in and out, the work done by OutboxStore and InboundProcessor. */
export function federationHandlers(deps: {
  outbox: OutboxStore;
  inbound: InboundProcessor;
  peers: PeerDirectory;
  /** Called after a new row is stored, so the dispatcher sends it now instead of at its next poll. */
  onEnqueued?: () => void;
}): FederationServiceServer {
  return {
    enqueue: async ({ request: req }) =>
      answer(async () => {
        if (!deps.peers.find(req.peer)) throw new FederationError('invalid_argument', `peer ${req.peer} is not configured`);
        const row = await deps.outbox.enqueue({ peer: req.peer, eventType: req.eventType, payloadJson: req.payloadJson, idempotencyKey: req.idempotencyKey, orderKey: req.orderKey });
        if (row.created) deps.onEnqueued?.();
        return { outboxId: row.id, eventId: row.eventId, created: row.created };
      }),
    receive: async ({ request: req }) =>
      answer(async () => {
        const result = await deps.inbound.receive(req.body);
        return { status: result.status, eventId: result.eventId, peer: result.peer };
      }),
    outbox: async ({ request: req }) =>
      answer(async () => {
        const summary = await deps.outbox.summary(req.deadLimit || 50);
        return {
          pending: summary.counts.pending,
          inFlight: summary.counts.in_flight,
          delivered: summary.counts.delivered,
          dead: summary.counts.dead,
          deadLetters: summary.dead.map((d) => ({ outboxId: d.id, peer: d.peer, eventType: d.eventType, attempts: d.attempts, lastError: d.lastError ?? '' })),
        };
      }),
  };
}
