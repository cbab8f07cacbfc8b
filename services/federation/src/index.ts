// Public surface of @commucat/federation.
export { FederationError, type FederationErrorCode } from './errors.js';
export { eventDigest, createdAtNanos, formatCreatedAt, type FederationEvent } from './event-digest.js';
export { parseSignedEvent, serializeSignedEvent, type SignedEvent } from './signed-event.js';
export { localSigner, secretsSigner, type FederationSigner } from './signer.js';
export { PeerDirectory, type FederationPeer } from './peers.js';
export { retryDelayMs, type BackoffPolicy } from './backoff.js';
export { federationMetrics, type FederationMetrics } from './federation-metrics.js';
export { InboundProcessor, type InboundDelivery, type InboundOptions, type InboundResult } from './inbound.js';
export { OutboxStore, type OutboxRow, type OutboxState, type OutboxSummary, type EnqueueInput } from './outbox.js';
export { OutboxDispatcher, type DispatcherOptions } from './dispatcher.js';
export { postEvent, type PeerTlsOptions, type PeerResponse } from './peer-transport.js';
export { federationHandlers, FEDERATION_ERROR_CODE_METADATA } from './federation-service.js';
export { FleetDelivery, type FleetDeliveryOptions, type NoticeSink } from './fleet-delivery.js';
