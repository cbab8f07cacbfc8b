import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

// Live delivery crosses NATS twice and relay once: milliseconds normally, seconds when a
// dependency is slow.
const DELIVERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createGatewayMetrics(registry: Registry) {
  return {
    connections: new Gauge({ name: 'commucat_gateway_connections', help: 'Open /connect streams (handshaking or established): the connections a gateway holds', registers: [registry] }),
    handshakes: new Counter({ name: 'commucat_gateway_handshakes_total', help: 'Finished handshakes by pattern and result', labelNames: ['pattern', 'result', 'transport'], registers: [registry] }),
    handshakeSeconds: new Histogram({
      name: 'commucat_gateway_handshake_duration_seconds', help: 'Hello received to Ack sent',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [registry],
    }),
    framesIn: new Counter({ name: 'commucat_gateway_frames_in_total', help: 'Frames received, by connection stage and frame type', labelNames: ['stage', 'type'], registers: [registry] }),
    framesOut: new Counter({ name: 'commucat_gateway_frames_out_total', help: 'Frames written to connections, by frame type', labelNames: ['type'], registers: [registry] }),
    framesRouted: new Counter({ name: 'commucat_gateway_frames_routed_total', help: 'Established frames handed to the router', labelNames: ['type'], registers: [registry] }),
    framesRefused: new Counter({ name: 'commucat_gateway_frames_refused_total', help: 'Established frames answered with an Error instead of being routed', labelNames: ['reason'], registers: [registry] }),
    framesThrottled: new Counter({ name: 'commucat_gateway_frames_throttled_total', help: 'Frames dropped over a connection\'s rate budget', registers: [registry] }),
    decodeErrors: new Counter({ name: 'commucat_gateway_decode_errors_total', help: 'Undecodable input: streams closed (handshake), or frames skipped with a decode Error (established)', labelNames: ['code'], registers: [registry] }),
    rateLimited: new Counter({ name: 'commucat_gateway_rate_limited_total', help: 'Requests refused with 429', labelNames: ['scope'], registers: [registry] }),
    /**
     * Live deliveries written to a connection: from the router accepting the frame
     * (`from="router_accept"`) and from the sender's gateway receiving it (`from="sender_receive"`).
     * Both clocks belong to other processes, so skew between hosts shows up here.
     */
    deliveryLatency: new Histogram({
      name: 'commucat_gateway_delivery_latency_seconds', help: 'Time until a live delivery was written to the recipient connection, by starting point',
      labelNames: ['from'], buckets: DELIVERY_BUCKETS, registers: [registry],
    }),
  };
}
