import type { Envelope } from '@commucat/contracts';
import { InMemorySpanExporter, initTelemetry, SimpleSpanProcessor, trace, withSpan, type Telemetry } from '@commucat/telemetry';
import { EnqueueBatcher } from '../src/enqueue-batcher';

const envelope = (messageId: string): Envelope => ({
  deviceId: 'd', messageId, channelId: 1, frame: Buffer.alloc(1, 7), senderDeviceId: 's', enqueuedAt: 0, expiresAt: 0, seq: 0,
});

let telemetry: Telemetry;
let exporter: InMemorySpanExporter;
beforeEach(() => {
  exporter = new InMemorySpanExporter();
  telemetry = initTelemetry({ serviceName: 'router-test', logLevel: 'silent', spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
afterEach(() => telemetry.shutdown());

/** A relay stand-in that records, per call, its messages and the trace/span active when it ran. */
function tracingRelay() {
  const calls: { messages: string[]; traceId?: string; spanId?: string }[] = [];
  let open: (() => void) | undefined;
  let held = false;
  return {
    calls,
    hold() { held = true; },
    release() { held = false; open?.(); },
    call: async (envelopes: Envelope[]) => {
      const active = trace.getActiveSpan()?.spanContext();
      calls.push({ messages: envelopes.map((e) => e.messageId), traceId: active?.traceId, spanId: active?.spanId });
      if (held) await new Promise<void>((resolve) => { open = resolve; });
      return envelopes.map((e, i) => ({ ...e, seq: i + 1 }));
    },
  };
}

test('a relay call of one message runs in that message\'s trace, also when it waited behind another call', async () => {
  const relay = tracingRelay();
  const batcher = new EnqueueBatcher({ call: relay.call, maxInFlight: 1 });
  relay.hold();
  let first = { traceId: '', spanId: '' };
  const pendingFirst = withSpan(telemetry.tracer, 'message a', (span) => {
    first = span.spanContext();
    return batcher.enqueue([envelope('a')]);
  });
  await new Promise((resolve) => setImmediate(resolve));
  let second = { traceId: '', spanId: '' };
  // Submitted while the first call is in flight: it is sent when that one finishes, from its
  // completion, and must still run in its own message's trace.
  const pendingSecond = withSpan(telemetry.tracer, 'message b', (span) => {
    second = span.spanContext();
    return batcher.enqueue([envelope('b')]);
  });
  relay.release();
  await Promise.all([pendingFirst, pendingSecond]);
  expect(relay.calls).toEqual([
    { messages: ['a'], traceId: first.traceId, spanId: first.spanId },
    { messages: ['b'], traceId: second.traceId, spanId: second.spanId },
  ]);
  expect(exporter.getFinishedSpans().map((span) => span.name).sort()).toEqual(['message a', 'message b']);
});

test('a shared call runs under a batch span, child of the first message, linked both ways with every message', async () => {
  const relay = tracingRelay();
  const batcher = new EnqueueBatcher({ call: relay.call });
  const ids: Record<string, { traceId: string; spanId: string }> = {};
  await Promise.all(['a', 'b', 'c'].map((id) => withSpan(telemetry.tracer, `message ${id}`, (span) => {
    ids[id] = span.spanContext();
    return batcher.enqueue([envelope(id)]);
  })));
  expect(relay.calls.map((call) => call.messages)).toEqual([['a', 'b', 'c']]);
  const spans = exporter.getFinishedSpans();
  const batch = spans.find((span) => span.name === 'relay.enqueue_batch')!;
  expect(batch.attributes).toMatchObject({ 'commucat.batch.messages': 3, 'commucat.batch.envelopes': 3 });
  expect(batch.spanContext().traceId).toBe(ids.a!.traceId);
  expect(batch.parentSpanContext?.spanId).toBe(ids.a!.spanId);
  expect(relay.calls[0]).toMatchObject({ traceId: ids.a!.traceId, spanId: batch.spanContext().spanId });
  expect(batch.links.map((link) => link.context.spanId)).toEqual([ids.a!.spanId, ids.b!.spanId, ids.c!.spanId]);
  for (const id of ['b', 'c']) {
    const message = spans.find((span) => span.name === `message ${id}`)!;
    expect(message.links.map((link) => link.context.spanId)).toEqual([batch.spanContext().spanId]);
  }
});
