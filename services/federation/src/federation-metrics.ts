import { Counter, Gauge, type Registry } from 'prom-client';

export interface FederationMetrics {
  readonly delivered: Counter;
  readonly attemptsFailed: Counter;
  readonly deadLettered: Counter;
  readonly outboxRows: Gauge<'state'>;
  readonly inboundAccepted: Counter;
  readonly inboundDuplicate: Counter;
  readonly inboundRejected: Counter<'reason'>;
}

export function federationMetrics(registry: Registry): FederationMetrics {
  const registers = [registry];
  return {
    delivered: new Counter({ name: 'commucat_federation_outbox_delivered_total', help: 'Outbound events a peer accepted', registers }),
    attemptsFailed: new Counter({ name: 'commucat_federation_outbox_failed_attempts_total', help: 'Outbound delivery attempts that failed', registers }),
    deadLettered: new Counter({ name: 'commucat_federation_outbox_dead_total', help: 'Outbound events given up on (max attempts or permanent rejection)', registers }),
    outboxRows: new Gauge({ name: 'commucat_federation_outbox_rows', help: 'Outbox rows by state, refreshed by the dispatcher', labelNames: ['state'], registers }),
    inboundAccepted: new Counter({ name: 'commucat_federation_inbound_processed_total', help: 'Inbound events delivered', registers }),
    inboundDuplicate: new Counter({ name: 'commucat_federation_inbound_duplicate_total', help: 'Inbound events already processed (sender retries)', registers }),
    inboundRejected: new Counter({ name: 'commucat_federation_inbound_rejected_total', help: 'Inbound events refused', labelNames: ['reason'], registers }),
  };
}
