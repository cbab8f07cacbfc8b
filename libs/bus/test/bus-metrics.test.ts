import { createMetricsRegistry, type Registry } from '@commucat/telemetry';
import { connectBus, defineSubject, timingFromHeaders, timingHeaders, type Bus } from '../src';
import { countdown, jsonCodec, natsUrl, uniqueToken } from './support/stack';

const run = uniqueToken('metrics');
const noStream = defineSubject('test.unstored', `commucat.test.${run}.unstored`, jsonCodec<{ n: number }>());
const garbled = defineSubject('test.garbled', `commucat.test.${run}.garbled`, jsonCodec<{ n: number }>());
const raw = defineSubject('test.garbled', `commucat.test.${run}.garbled`, { encode: (text: string) => new TextEncoder().encode(text), decode: (bytes: Uint8Array) => new TextDecoder().decode(bytes) });
const buses: Bus[] = [];

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
});

async function errorCount(registry: Registry, labels: string): Promise<number> {
  const text = await registry.getSingleMetricAsString('commucat_nats_errors_total');
  const line = text.split('\n').find((l) => l.startsWith(`commucat_nats_errors_total{${labels},`) || l.startsWith(`commucat_nats_errors_total{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('commucat_nats_errors_total', () => {
  it('counts failed publishes, undecodable and failing deliveries by operation, subject name and code', async () => {
    const registry = createMetricsRegistry('bus-test');
    const bus = await connectBus({ servers: natsUrl(), name: 'metrics', registry });
    buses.push(bus);

    // A durable publish no stream captures fails, and is counted under the catalogue name.
    await expect(bus.publishDurable(noStream, {}, { n: 1 })).rejects.toMatchObject({ code: 'publish_failed' });
    expect(await errorCount(registry, 'operation="publish",subject="test.unstored",code="publish_failed"')).toBe(1);

    // A message that does not decode, then a handler that throws.
    const handled = countdown(1);
    const subscription = bus.subscribe(garbled, {}, (message) => {
      handled.hit();
      if (message.n === 2) throw new Error('handler bug');
    });
    await bus.ready();
    bus.publish(raw, {}, 'not json');
    bus.publish(garbled, {}, { n: 2 });
    await handled.done;
    await subscription.drain();
    expect(await errorCount(registry, 'operation="decode",subject="test.garbled",code="decode_failed"')).toBe(1);
    expect(await errorCount(registry, 'operation="consume",subject="test.garbled",code="handler_failed"')).toBe(1);
  });

  it('is shared by buses on one registry, and absent without one', async () => {
    const registry = createMetricsRegistry('bus-test');
    const first = await connectBus({ servers: natsUrl(), name: 'first', registry });
    const second = await connectBus({ servers: natsUrl(), name: 'second', registry });
    const unmeasured = await connectBus({ servers: natsUrl(), name: 'unmeasured' });
    buses.push(first, second, unmeasured);
    await expect(first.publishDurable(noStream, {}, { n: 1 })).rejects.toBeDefined();
    await expect(second.publishDurable(noStream, {}, { n: 1 })).rejects.toBeDefined();
    await expect(unmeasured.publishDurable(noStream, {}, { n: 1 })).rejects.toBeDefined();
    expect(await errorCount(registry, 'operation="publish",subject="test.unstored",code="publish_failed"')).toBe(2);
  });
});

describe('frame timing headers', () => {
  it('round-trip, and read garbled or missing values as unknown', () => {
    expect(timingFromHeaders(timingHeaders({ receivedAt: 1_700_000_000_123, acceptedAt: 1_700_000_000_456 }))).toEqual({ receivedAt: 1_700_000_000_123, acceptedAt: 1_700_000_000_456 });
    expect(timingFromHeaders({ 'Commucat-Received-At': 'soon', 'Commucat-Accepted-At': '12' })).toEqual({ receivedAt: 0, acceptedAt: 12 });
    expect(timingFromHeaders({})).toBeUndefined();
  });
});
