import { Counter, Gauge, type Registry } from 'prom-client';

export interface RelayMetrics {
  readonly queueDepth: Gauge;
  readonly enqueued: Counter;
  readonly duplicates: Counter;
  readonly acknowledged: Counter;
  readonly expired: Counter;
}

export function relayMetrics(registry: Registry): RelayMetrics {
  return {
    queueDepth: new Gauge({ name: 'commucat_relay_queue_depth', help: 'Envelopes in the relay queue (all devices), refreshed by the purge loop', registers: [registry] }),
    enqueued: new Counter({ name: 'commucat_relay_enqueued_total', help: 'Envelopes stored by Enqueue', registers: [registry] }),
    duplicates: new Counter({ name: 'commucat_relay_duplicates_total', help: 'Enqueued envelopes that were already stored (idempotent retries)', registers: [registry] }),
    acknowledged: new Counter({ name: 'commucat_relay_acknowledged_total', help: 'Envelopes removed by Acknowledge', registers: [registry] }),
    expired: new Counter({ name: 'commucat_relay_expired_total', help: 'Expired envelopes deleted by the purge', registers: [registry] }),
  };
}
