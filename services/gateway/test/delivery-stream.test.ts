import { encodeFrame, FrameType, opaqueFrame, type Frame } from '@commucat/ccp1';
import { initTelemetry, InMemorySpanExporter, SimpleSpanProcessor, startRootSpan, context, trace, type Telemetry } from '@commucat/telemetry';
import pino from 'pino';
import { DeliveryStream, type DeliveryTiming } from '../src/delivery-stream';
import type { InboxAccess } from '../src/inbox-delivery';

let telemetry: Telemetry;
beforeEach(() => {
  telemetry = initTelemetry({ serviceName: 'gateway-test', logLevel: 'silent', spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
});
afterEach(() => telemetry.shutdown());

const msg = (text: string) => encodeFrame(opaqueFrame(FrameType.Msg, 7, 1, Buffer.from(text)));

/** An inbox whose first drain page waits until released, so live deliveries arrive mid-drain. */
function heldInbox(envelopes: Array<{ frame: Buffer; seq: number }>) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const acknowledged: number[] = [];
  const inbox: InboxAccess = {
    drain: async () => { await gate; return { envelopes, more: false }; },
    acknowledge: async (_device, seqs) => { acknowledged.push(...seqs); },
  };
  return { inbox, release, acknowledged };
}

function stream(inbox: InboxAccess) {
  const written: Array<{ text: string; sequence: number; traceId: string | undefined }> = [];
  const latencies: DeliveryTiming[] = [];
  const deliveries = new DeliveryStream({
    deviceId: 'dev', inbox, relayAck: false, acceptsTransportUpdate: false, isOpen: () => true, logger: pino({ level: 'silent' }),
    write: (frame: Frame) => written.push({
      text: frame.payload.kind === 'opaque' ? Buffer.from(frame.payload.bytes).toString() : '', sequence: frame.sequence,
      traceId: trace.getActiveSpan()?.spanContext().traceId,
    }),
    onLiveWritten: (timing) => latencies.push(timing),
  });
  return { deliveries, written, latencies };
}

test('a live delivery held behind the inbox drain is written later in its own trace, with its timing', async () => {
  const { inbox, release } = heldInbox([{ frame: msg('queued earlier'), seq: 4 }]);
  const { deliveries, written, latencies } = stream(inbox);
  const draining = deliveries.start();
  const delivery = startRootSpan('process gateway.deliver');
  const timing = { receivedAt: Date.now() - 20, acceptedAt: Date.now() - 10 };
  const outcome = context.with(delivery.ctx, () => deliveries.deliver(msg('live'), 5, undefined, timing));
  expect(outcome).toBe('held_for_drain');
  expect(written).toEqual([]);
  // The drain runs in no trace here (the handshake's, in the gateway).
  release();
  await draining;
  expect(written).toEqual([
    { text: 'queued earlier', sequence: 1, traceId: undefined },
    { text: 'live', sequence: 2, traceId: delivery.span.spanContext().traceId },
  ]);
  expect(latencies).toEqual([timing]);
  delivery.span.end();
});

test('a repeat of a delivered relay seq is not written twice and reports so', async () => {
  const { inbox, release } = heldInbox([]);
  const { deliveries, written, latencies } = stream(inbox);
  release();
  await deliveries.start();
  expect(deliveries.deliver(msg('once'), 9, undefined, { receivedAt: 1, acceptedAt: 2 })).toBe('written');
  expect(deliveries.deliver(msg('once'), 9)).toBe('already_sent');
  expect(written.map((w) => w.text)).toEqual(['once']);
  expect(latencies).toHaveLength(1);
});
