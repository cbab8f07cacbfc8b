import { status } from '@grpc/grpc-js';
import type { FederationServiceClient } from '@commucat/contracts';
import { callUnary, GrpcStatusError } from '@commucat/service-kit';
import { refuse } from './directory-errors.js';
import type { FederationEvent, FederationOutbox } from './federation-outbox.js';

/**
 * The outbox as the federation service serves it (FederationService.Enqueue). No wait-for-ready:
 * the caller holds a Postgres transaction open, so an absent federation service fails fast.
 */
export class GrpcFederationOutbox implements FederationOutbox {
  constructor(private readonly client: FederationServiceClient, private readonly deadlineMs = 5000) {}

  async enqueue(event: FederationEvent): Promise<void> {
    try {
      await callUnary(this.client, 'enqueue', {
        peer: event.peer, eventType: event.eventType, payloadJson: JSON.stringify(event.payload),
        idempotencyKey: event.idempotencyKey, orderKey: event.orderKey,
      }, { deadlineMs: this.deadlineMs });
    } catch (err) {
      if (!GrpcStatusError.is(err)) throw err;
      // Enqueue answers INVALID_ARGUMENT only for a peer that is not configured.
      if (err.code === status.INVALID_ARGUMENT) throw refuse('unknown_domain', `unknown domain ${event.peer}`);
      if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) {
        throw refuse('federation_unavailable', 'federation is unavailable, retry later');
      }
      throw err;
    }
  }
}
